// A card payload as Journey Sync's /cards/hubspot/<object>/<id> answers it.
export function journey(overrides = {}) {
  return {
    object: 'deal',
    id: '18462730001',
    name: 'Acme renewal',
    stage: {
      key: 'consideration', label: 'Consideration', position: 2, of: 4, is_exit: false,
      crm_stage: 'appointmentscheduled',
      stages: [
        { key: 'awareness', label: 'Awareness' }, { key: 'consideration', label: 'Consideration' },
        { key: 'decision', label: 'Decision' }, { key: 'purchase', label: 'Purchase' },
      ],
    },
    goal: 'Show the buyer the solution fits their problem',
    days_in_stage: 9, expected_days: 21, days_left: 12, stalled: false, days_over: 0,
    persona: { key: 'enterprise_buyer', label: 'Enterprise buyer' },
    next_best_action: 'Send the ROI case study',
    owner: { id: '7001', name: 'Ada Lovelace' },
    timeline: [
      { stage: 'awareness', label: 'Awareness', entered_at: '2026-10-01T09:00:00+00:00',
        exited_at: '2026-11-21T09:00:00+00:00', days: 51, stalled: true },
      { stage: 'consideration', label: 'Consideration', entered_at: '2026-11-21T09:00:00+00:00',
        exited_at: null, days: 9, stalled: false },
    ],
    url: 'https://journey.example.com/connections/hubspot-demo/records/deal/18462730001',
    ...overrides,
  };
}

/** A stand-in for hubspot.fetch that answers ``body`` with ``status`` and records the calls. */
export function answering(body, status = 200) {
  const calls = [];
  const fetcher = async (url, options) => {
    calls.push({ url, options });
    return { ok: status < 400, status, json: async () => body };
  };
  return { fetcher, calls };
}
