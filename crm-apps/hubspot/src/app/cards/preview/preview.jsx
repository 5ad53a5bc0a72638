// A local preview of the card: renders JourneyView with the SDK's test renderer and writes the
// rendered component tree as a static HTML page styled like HubSpot's components, for a
// screenshot in headless Chromium (docs/screenshots/hubspot-card.png). Not shipped to HubSpot.
//   npx vite-node preview/preview.jsx -- OUT.html
import { writeFileSync } from 'node:fs';
import React from 'react';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { JourneyView } from '../JourneyCard.jsx';
import { journey } from '../__tests__/fixtures.js';

const escape = (text) => String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

function html(node) {
  if (node.nodeType === 'text' || node.name === undefined) return escape(node.text ?? '');
  const inner = (node.childNodes ?? []).map(html).join('');
  const p = node.props ?? {};
  switch (node.name) {
    case 'Flex': return `<div class="flex ${p.direction ?? 'row'}">${inner}</div>`;
    case 'Heading': return `<h2>${inner}</h2>`;
    case 'Text': return `<p class="${p.variant ?? ''} ${p.format?.fontWeight ?? ''}">${inner}</p>`;
    case 'Tag': return `<span class="tag ${p.variant ?? 'default'}">${inner}</span>`;
    case 'StepIndicator':
      return `<ol class="steps">${p.stepNames.map((name, i) => `<li class="${i < p.currentStep ? 'done' : i === p.currentStep ? 'current' : ''}"><span>${i + 1}</span>${escape(name)}</li>`).join('')}</ol>`;
    case 'ProgressBar':
      return `<div class="progress"><div class="title">${escape(p.title)}</div><div class="bar ${p.variant}"><div style="width:${Math.round(100 * p.value / p.maxValue)}%"></div></div><div class="desc">${escape(p.valueDescription)}</div></div>`;
    case 'DescriptionList': return `<dl>${inner}</dl>`;
    case 'DescriptionListItem': return `<div><dt>${escape(p.label)}</dt><dd>${inner}</dd></div>`;
    case 'Divider': return '<hr>';
    case 'Table': return `<table>${inner}</table>`;
    case 'TableHead': return `<thead>${inner}</thead>`;
    case 'TableBody': return `<tbody>${inner}</tbody>`;
    case 'TableRow': return `<tr>${inner}</tr>`;
    case 'TableHeader': return `<th>${inner}</th>`;
    case 'TableCell': return `<td>${inner}</td>`;
    case 'Link': return `<a href="${escape(p.href.url)}">${inner} ↗</a>`;
    default: return inner;
  }
}

const STYLE = `body{font-family:"Lexend Deca",Helvetica,Arial,sans-serif;background:#f5f8fa;margin:0;padding:24px;color:#33475b}
.card{background:#fff;border:1px solid #cbd6e2;border-radius:4px;max-width:560px;padding:16px 20px}
.card>h1{font-size:14px;margin:0 0 12px;color:#33475b;border-bottom:1px solid #eaf0f6;padding-bottom:8px}
.flex{display:flex;gap:10px}.flex.column{flex-direction:column}.flex.row{align-items:center}
h2{font-size:20px;margin:0}p{margin:0;font-size:14px}p.microcopy{font-size:12px;color:#516f90}p.bold{font-weight:600}
.tag{font-size:12px;padding:2px 8px;border-radius:3px;border:1px solid}.tag.error{background:#fde8e9;border-color:#f2545b;color:#b3093c}.tag.info{background:#e5f5f8;border-color:#00a4bd}
ol.steps{display:flex;list-style:none;padding:0;margin:4px 0;gap:4px;font-size:12px}
ol.steps li{flex:1;display:flex;flex-direction:column;align-items:center;gap:4px;color:#7c98b6}
ol.steps li span{width:22px;height:22px;border-radius:50%;border:2px solid #cbd6e2;display:flex;align-items:center;justify-content:center;background:#fff}
ol.steps li.done span{background:#00bda5;border-color:#00bda5;color:#fff}ol.steps li.current{color:#33475b;font-weight:600}ol.steps li.current span{border-color:#0091ae;color:#0091ae}
.progress .title{font-size:13px;font-weight:600;margin-bottom:4px}.progress .desc{font-size:12px;color:#516f90;margin-top:4px}
.bar{height:8px;background:#eaf0f6;border-radius:4px}.bar div{height:8px;border-radius:4px}.bar.success div{background:#00bda5}.bar.warning div{background:#f5c26b}.bar.danger div{background:#f2545b}
dl{display:flex;gap:32px;margin:4px 0}dt{font-size:12px;color:#516f90}dd{margin:0}
hr{border:0;border-top:1px solid #eaf0f6;width:100%}
table{border-collapse:collapse;font-size:13px;width:100%}th{text-align:left;background:#f5f8fa;padding:6px;border-bottom:1px solid #cbd6e2}td{padding:6px;border-bottom:1px solid #eaf0f6}
a{color:#0091ae;font-size:14px;text-decoration:none;font-weight:600}`;

const out = process.argv[process.argv.length - 1];
const { render } = createRenderer('crm.record.tab');
// a deal 30 days into Consideration (21 expected): its timeline says the same
const root = render(<JourneyView journey={journey({
  stalled: true, days_in_stage: 30, days_left: 0, days_over: 9,
  next_best_action: 'Re-engage the champion with the ROI case study',
  timeline: [
    { stage: 'awareness', label: 'Awareness', entered_at: '2026-09-10T09:00:00+00:00',
      exited_at: '2026-10-31T09:00:00+00:00', days: 51, stalled: true },
    { stage: 'consideration', label: 'Consideration', entered_at: '2026-10-31T09:00:00+00:00',
      exited_at: null, days: 30, stalled: true },
  ],
})} />);
const body = root.childNodes.map(html).join('');
writeFileSync(out, `<!doctype html><meta charset="utf-8"><style>${STYLE}</style><div class="card"><h1>Customer journey</h1>${body}</div>`);
console.log(`wrote ${out}`);
