"""The service on Celery and Redis, for when one machine is not enough.

Set ``JOURNEY_BROKER_URL`` (``redis://host:6379/0``) and the work of the embedded worker is split
in two kinds of processes:

- ``journey scheduler`` (:mod:`integration.queue.scheduler`): every tick, finds the connections
  with work due and queues one task per connection, at most ``JOURNEY_QUEUE_TENANT_SHARE`` per
  tenant at a time, interleaved across tenants, so no tenant starves another;
- ``journey worker`` (:mod:`integration.queue.tasks`): Celery workers, on any number of machines,
  run each task with the same stateless function the embedded worker uses
  (:func:`integration.worker.work_connection`: scheduled sync, targeted sync of webhook records,
  stall pass, outbox) under the connection's database lease.

Rate budgets of CRM accounts are shared through the same Redis (:mod:`integration.queue.budgets`).
"""
