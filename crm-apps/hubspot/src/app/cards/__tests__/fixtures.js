// A card payload as Journey Sync's /cards/hubspot/<object>/<id> answers it (the record-journey
// view: summary, place on the map, goal, days left, owner name, timeline, link).
export function journey(overrides = {}) {
  return {
    object: 'deal',
    id: '18462730001',
    name: 'Acme renewal',
    stage: 'consideration', stage_label: 'Consideration', position: 2, of: 4, is_exit: false,
    crm_stage: 'appointmentscheduled',
    stages: [
      { key: 'awareness', label: 'Awareness' }, { key: 'consideration', label: 'Consideration' },
      { key: 'decision', label: 'Decision' }, { key: 'purchase', label: 'Purchase' },
    ],
    goal: 'Show the buyer the solution fits their problem',
    days_in_stage: 9, expected_days: 21, days_left: 12, stalled: false, days_over: 0,
    persona: 'enterprise_buyer', persona_label: 'Enterprise buyer',
    next_best_action: 'Send the ROI case study',
    owner_id: '7001', owner_name: 'Ada Lovelace',
    timeline: [
      { stage: 'awareness', label: 'Awareness', entered_at: '2026-10-01T09:00:00+00:00',
        exited_at: '2026-11-21T09:00:00+00:00', days: 51, stalled: true },
      { stage: 'consideration', label: 'Consideration', entered_at: '2026-11-21T09:00:00+00:00',
        exited_at: null, days: 9, stalled: false },
    ],
    url: 'https://app.hubspot.com/contacts/62515/record/0-3/18462730001',
    link: 'https://journey.example.com/connections/1/records/deal/18462730001',
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
