// What the card asks of Journey Sync and how it words the answer; no React here, so the rules
// are tested on their own.
import { SERVICE_URL } from './config.js';

// HubSpot object type ids -> the object names of the service's card endpoint.
const OBJECTS = { '0-3': 'deal', '0-1': 'contact' };

/**
 * The card endpoint URL of the record the card is shown on, or null on other objects.
 * hubspot.fetch() appends userId, userEmail, appId and portalId to the query string and signs
 * the request (X-HubSpot-Signature-v3); the service finds the connection by portalId.
 */
export function journeyUrl(context, base = SERVICE_URL) {
  const object = OBJECTS[context?.crm?.objectTypeId];
  const id = context?.crm?.objectId;
  if (!object || id === undefined || id === null) return null;
  return `${base.replace(/\/$/, '')}/cards/hubspot/${object}/${encodeURIComponent(String(id))}`;
}

/** "3 days", "1 day". */
export function days(n) {
  return `${n} ${n === 1 ? 'day' : 'days'}`;
}

/** How the record stands against the stage's expected days, in words. */
export function pace(journey) {
  if (journey.is_exit) return `Closed: ${journey.stage_label}`;
  if (journey.expected_days === null || journey.expected_days === undefined) {
    return `${days(journey.days_in_stage)} in stage; this stage never stalls`;
  }
  if (journey.stalled) {
    return `Stalled: ${days(journey.days_over)} over the expected ${days(journey.expected_days)}`;
  }
  return `${days(journey.days_left)} left before it stalls (expected ${days(journey.expected_days)})`;
}

/** A short date (YYYY-MM-DD) of an ISO timestamp, or an em dash. */
export function shortDate(iso) {
  return iso ? String(iso).slice(0, 10) : '—';
}

/** A readable message for a failed fetch: the service's own error message when it sent one. */
export async function errorMessage(response) {
  try {
    const body = await response.json();
    if (body?.error?.message) return body.error.message;
  } catch {
    // not JSON: fall through to the status line
  }
  return `Journey Sync answered ${response.status}`;
}
