// A local preview of the journeyPath component: mounts it in sfdx-lwc-jest's DOM with Lightning
// Data Service answering from test data, then writes the rendered shadow DOM as a static HTML page
// (SLDS-like styles; the lightning-* base components drawn from their properties) for a screenshot
// in headless Chromium (docs/screenshots/salesforce-component.png). Not part of the deployed source.
//   PREVIEW_OUT=/tmp/component.html npm run preview
import { createElement } from 'lwc';
import { writeFileSync } from 'fs';
import JourneyPath from 'c/journeyPath';
import { getRecord } from 'lightning/uiRecordApi';
import { getObjectInfo, getPicklistValues } from 'lightning/uiObjectInfoApi';

const RECORD = require('../force-app/main/default/lwc/journeyPath/__tests__/data/opportunity.json');
const STAGES = require('../force-app/main/default/lwc/journeyPath/__tests__/data/stages.json');

const STYLE = `body{font-family:"Salesforce Sans",Arial,sans-serif;background:#f3f3f3;margin:0;padding:24px;color:#181818}
.card{background:#fff;border:1px solid #dddbda;border-radius:4px;max-width:640px;box-shadow:0 2px 2px rgba(0,0,0,.1)}
.card>header{padding:12px 16px;font-weight:700;font-size:14px;display:flex;gap:8px;align-items:center}
.card>header i{width:24px;height:24px;border-radius:4px;background:#06a59a;display:inline-block}
.body{padding:0 16px 16px}.header{display:flex;gap:8px;align-items:center;margin-bottom:12px}
h2{font-size:20px;font-weight:400;margin:0}.badge{background:#ba0517;color:#fff;border-radius:15px;padding:2px 10px;font-size:12px}
ol.path{display:flex;list-style:none;padding:0;margin:0 0 12px}ol.path li{flex:1;text-align:center;padding:8px 4px;font-size:13px;background:#ecebea;margin-right:4px;clip-path:polygon(0 0,92% 0,100% 50%,92% 100%,0 100%,8% 50%)}
ol.path li.done{background:#3ba755;color:#fff}ol.path li.current{background:#014486;color:#fff;font-weight:700}
.pace{margin:0 0 12px;font-size:14px}dl{display:grid;grid-template-columns:140px 1fr;gap:6px;margin:0;font-size:14px}dt{color:#706e6b}dd{margin:0}`;

function draw(node, current, order) {
    if (node.nodeType === 3) return node.textContent.replace(/[&<]/g, (c) => (c === '&' ? '&amp;' : '&lt;'));
    if (node.nodeType !== 1) return '';
    const tag = node.tagName.toLowerCase();
    // the lightning-* stubs keep what the component passes them in their light DOM
    const own = tag.startsWith('c-') && node.shadowRoot ? node.shadowRoot.childNodes : node.childNodes;
    const children = () => [...own].map((c) => draw(c, current, order)).join('');
    if (tag === 'lightning-card') return `<div class="card"><header><i></i>${node.title}</header><div class="body">${children()}</div></div>`;
    if (tag === 'lightning-badge') return `<span class="badge">${node.label}</span>`;
    if (tag === 'lightning-progress-indicator') return `<ol class="path">${children()}</ol>`;
    if (tag === 'lightning-progress-step') {
        const at = order.indexOf(node.value);
        const state = at < order.indexOf(current) ? 'done' : node.value === current ? 'current' : '';
        return `<li class="${state}">${node.label}</li>`;
    }
    if (tag.startsWith('c-')) return children();
    const cls = node.getAttribute('class') || '';
    return `<${tag} class="${cls}">${children()}</${tag}>`;
}

describe('preview', () => {
    it('writes the rendered component as a static page', async () => {
        jest.useFakeTimers({ now: new Date('2026-11-30T10:00:00.000Z') });
        const element = createElement('c-journey-path', { is: JourneyPath });
        element.recordId = RECORD.id;
        element.objectApiName = 'Opportunity';
        document.body.appendChild(element);
        const record = JSON.parse(JSON.stringify(RECORD));
        record.fields.Journey_Stalled__c.value = true;
        record.fields.Journey_Stage_Entered_At__c.value = '2026-10-30T09:00:00.000Z';
        record.fields.Journey_Stalls_At__c.value = '2026-11-21T09:00:00.000Z';
        record.fields.Next_Best_Action__c.value = 'Re-engage the champion with the ROI case study';
        getRecord.emit(record);
        getObjectInfo.emit({ apiName: 'Opportunity', defaultRecordTypeId: '012000000000000AAA' });
        await Promise.resolve();
        getPicklistValues.emit(STAGES);
        await Promise.resolve();
        const order = STAGES.values.map((v) => v.value);
        const body = [...element.shadowRoot.childNodes].map((n) => draw(n, 'consideration', order)).join('');
        writeFileSync(process.env.PREVIEW_OUT, `<!doctype html><meta charset="utf-8"><style>${STYLE}</style>${body}`);
        expect(body).toContain('Stalled 10 days over');
    });
});
