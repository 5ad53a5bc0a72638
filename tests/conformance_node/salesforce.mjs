// jsforce against the Salesforce sandbox: the paths Journey Sync uses, through a client nobody here
// wrote. Reads SF_INSTANCE_URL, SF_ACCESS_TOKEN, SF_VERSION and SF_OPPORTUNITY_IDS (comma-separated);
// the sandbox's CA comes in through NODE_EXTRA_CA_CERTS. Prints one JSON object of findings.
import jsforce from "jsforce";

const conn = new jsforce.Connection({
  instanceUrl: process.env.SF_INSTANCE_URL,
  accessToken: process.env.SF_ACCESS_TOKEN,
  version: process.env.SF_VERSION,
});
const ids = process.env.SF_OPPORTUNITY_IDS.split(",");
const out = {};

const first = await conn.query("SELECT Id, Name, StageName FROM Opportunity ORDER BY Id", { autoFetch: false });
out.query = { totalSize: first.totalSize, done: first.done, size: first.records.length,
              nextRecordsUrl: Boolean(first.nextRecordsUrl) };
const second = await conn.queryMore(first.nextRecordsUrl);
out.queryMore = { size: second.records.length, done: second.done };

const nested = await conn.query(
  "SELECT Id, (SELECT StageName, CreatedDate FROM OpportunityHistories ORDER BY CreatedDate) " +
  `FROM Opportunity WHERE Id = '${ids[0]}'`);
out.subquery = nested.records[0].OpportunityHistories.records.map((r) => r.StageName);

const described = await conn.sobject("Opportunity").describe();
out.describe = { name: described.name, stage: described.fields.some((f) => f.name === "StageName"),
                 history: described.childRelationships.some((r) => r.relationshipName === "OpportunityHistories") };

const updated = await conn.sobject("Opportunity").update(
  ids.map((id, n) => ({ Id: id, Name: `Renamed by jsforce ${n}` })), { allOrNone: false });
out.update = updated.map((r) => ({ id: r.id, success: r.success }));
const readBack = await conn.sobject("Opportunity").retrieve(ids[0]);
out.readBack = readBack.Name;

const fields = await conn.tooling.query("SELECT Id, DeveloperName FROM CustomField");
out.tooling = { totalSize: fields.totalSize };

process.stdout.write(JSON.stringify(out));
