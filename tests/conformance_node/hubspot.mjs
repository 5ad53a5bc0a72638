// @hubspot/api-client against the HubSpot sandbox: the paths Journey Sync uses, through a client
// nobody here wrote. Reads HS_BASE_URL, HS_TOKEN and HS_DEAL_IDS (comma-separated). Prints one JSON
// object of findings.
import { Client } from "@hubspot/api-client";

const client = new Client({ accessToken: process.env.HS_TOKEN, basePath: process.env.HS_BASE_URL,
                            numberOfApiCallRetries: 0 });
const ids = process.env.HS_DEAL_IDS.split(",");
const out = {};

const page = await client.crm.deals.basicApi.getPage(2, undefined, ["dealname", "dealstage"]);
const next = await client.crm.deals.basicApi.getPage(2, page.paging.next.after, ["dealname"]);
out.list = { size: page.results.length, after: Boolean(page.paging?.next?.after), next: next.results.length,
             distinct: !next.results.some((r) => page.results.some((p) => p.id === r.id)) };

const deal = await client.crm.deals.basicApi.getById(ids[0], ["dealstage"], ["dealstage"]);
out.read = { id: deal.id, stage: deal.properties.dealstage,
             history: (deal.propertiesWithHistory?.dealstage ?? []).length };

const found = await client.crm.deals.searchApi.doSearch({
  filterGroups: [], sorts: [{ propertyName: "hs_object_id", direction: "ASCENDING" }],
  properties: ["dealstage"], limit: 3, after: "0" });
out.search = { total: found.total, size: found.results.length, after: found.paging?.next?.after ?? null };

const properties = await client.crm.properties.coreApi.getAll("deals");
out.properties = { dealstage: properties.results.some((p) => p.name === "dealstage") };

const batch = await client.crm.deals.batchApi.update({ inputs: ids.map((id) => ({
  id, properties: { dealname: `Renamed by api-client ${id}` } })) });
out.batchUpdate = { status: batch.status, size: batch.results.length };

const partial = await client.crm.deals.batchApi.update({ inputs: [
  { id: ids[0], properties: { dealname: "still fine" } },
  { id: "999999999", properties: { dealname: "no such deal" } }] });
out.partial = { size: partial.results.length, numErrors: partial.numErrors ?? null,
                errors: (partial.errors ?? []).map((e) => ({ category: e.category, ids: e.context?.ids })) };

const statuses = [];
let limited = null;
for (let n = 0; n < 8 && !limited; n++) {
  try {
    await client.crm.deals.searchApi.doSearch({ filterGroups: [], limit: 1 });
    statuses.push(200);
  } catch (error) {
    statuses.push(error.code);
    limited = { code: error.code, body: error.body };
  }
}
out.limited = { statuses, code: limited?.code ?? null, category: limited?.body?.category ?? null };

process.stdout.write(JSON.stringify(out));
