// Day arithmetic on the journey fields, kept apart from the component so it is tested alone.
// Journey Sync writes dates, never counters: the days are worked out here, at view time.

const DAY = 24 * 60 * 60 * 1000;

/**
 * Where a record stands against its stage's expected time, from the Journey Sync fields:
 * ``enteredAt`` (Journey_Stage_Entered_At__c) and ``stallsAt`` (Journey_Stalls_At__c, the moment
 * the record turns stalled: entered + expected days + 1; empty for stages that never stall).
 */
export function pace(enteredAt, stallsAt, now = new Date()) {
    if (!enteredAt) return null;
    const entered = new Date(enteredAt).getTime();
    const daysInStage = Math.max(0, Math.floor((now.getTime() - entered) / DAY));
    if (!stallsAt) return { daysInStage, expectedDays: null, daysLeft: null, daysOver: 0 };
    const stalls = new Date(stallsAt).getTime();
    const expectedDays = Math.round((stalls - entered) / DAY) - 1;
    const over = now.getTime() >= stalls;
    return {
        daysInStage,
        expectedDays,
        daysLeft: over ? 0 : Math.max(0, expectedDays - daysInStage),
        daysOver: over ? daysInStage - expectedDays : 0
    };
}

/** "1 day", "3 days". */
export function days(n) {
    return `${n} ${n === 1 ? 'day' : 'days'}`;
}

/** One sentence on the pace, as the card in HubSpot words it. */
export function paceText(p, stalled) {
    if (!p) return 'Not placed on the journey yet';
    if (p.expectedDays === null) return `${days(p.daysInStage)} in stage; this stage never stalls`;
    if (stalled) return `Stalled: ${days(p.daysOver)} over the expected ${days(p.expectedDays)}`;
    return `${days(p.daysInStage)} of ${days(p.expectedDays)} expected; ${days(p.daysLeft)} left before it stalls`;
}
