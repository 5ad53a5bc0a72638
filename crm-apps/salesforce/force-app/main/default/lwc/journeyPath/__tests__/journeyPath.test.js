import { createElement } from 'lwc';
import JourneyPath from 'c/journeyPath';
import { getRecord } from 'lightning/uiRecordApi';
import { getObjectInfo, getPicklistValues } from 'lightning/uiObjectInfoApi';
import { pace, paceText } from '../journey';

const OPPORTUNITY = require('./data/opportunity.json');
const STAGES = require('./data/stages.json');
const NOW = new Date('2026-11-30T10:00:00.000Z');

function mount(objectApiName = 'Opportunity') {
    const element = createElement('c-journey-path', { is: JourneyPath });
    element.recordId = OPPORTUNITY.id;
    element.objectApiName = objectApiName;
    document.body.appendChild(element);
    return element;
}

function withFields(overrides) {
    const record = JSON.parse(JSON.stringify(OPPORTUNITY));
    Object.entries(overrides).forEach(([name, value]) => {
        record.fields[name] = { value, displayValue: null };
    });
    return record;
}

const flush = () => Promise.resolve();
const text = (element, selector) => element.shadowRoot.querySelector(selector)?.textContent;

describe('c-journey-path', () => {
    beforeEach(() => {
        jest.useFakeTimers({ now: NOW });
    });

    afterEach(() => {
        while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
        jest.useRealTimers();
        jest.clearAllMocks();
    });

    it('asks Lightning Data Service for the journey fields of its own object', async () => {
        mount('Lead');
        await flush();
        expect(getRecord.getLastConfig()).toEqual({
            recordId: OPPORTUNITY.id,
            optionalFields: [
                'Lead.Journey_Stage__c', 'Lead.Journey_Persona__c', 'Lead.Next_Best_Action__c',
                'Lead.Journey_Stalled__c', 'Lead.Journey_Stage_Entered_At__c', 'Lead.Journey_Stalls_At__c',
                'Lead.Owner.Name'
            ]
        });
        getObjectInfo.emit({ apiName: 'Lead', defaultRecordTypeId: '012000000000000AAA' });
        await flush();
        expect(getPicklistValues.getLastConfig()).toEqual({
            recordTypeId: '012000000000000AAA', fieldApiName: 'Lead.Journey_Stage__c'
        });
    });

    it('shows the stage path in map order with the current stage, pace, persona, owner and action', async () => {
        const element = mount();
        getRecord.emit(OPPORTUNITY);
        getObjectInfo.emit({ apiName: 'Opportunity', defaultRecordTypeId: '012000000000000AAA' });
        await flush();
        getPicklistValues.emit(STAGES);
        await flush();
        expect(text(element, '.stage')).toBe('Consideration');
        const path = element.shadowRoot.querySelector('lightning-progress-indicator');
        expect(path.type).toBe('path');
        expect(path.currentStep).toBe('consideration');
        const steps = [...element.shadowRoot.querySelectorAll('lightning-progress-step')];
        expect(steps.map((s) => s.label)).toEqual(['Awareness', 'Consideration', 'Decision', 'Purchase', 'Lost']);
        expect(text(element, '.pace')).toBe('9 days of 21 days expected; 12 days left before it stalls');
        expect(text(element, '.persona')).toBe('High-value enterprise buyer');
        expect(text(element, '.owner')).toBe('Ada Lovelace');
        expect(text(element, '.action')).toBe('Send the ROI case study');
        expect(element.shadowRoot.querySelector('lightning-badge')).toBeNull();
    });

    it('badges a stalled record with the days over the expected time', async () => {
        const element = mount();
        getRecord.emit(withFields({
            Journey_Stalled__c: true,
            Journey_Stage_Entered_At__c: '2026-10-30T09:00:00.000Z',
            Journey_Stalls_At__c: '2026-11-21T09:00:00.000Z'
        }));
        await flush();
        expect(element.shadowRoot.querySelector('lightning-badge').label).toBe('Stalled 10 days over');
        expect(text(element, '.pace')).toBe('Stalled: 10 days over the expected 21 days');
    });

    it('says when the record is not on the journey yet, and shows load errors', async () => {
        const element = mount();
        getRecord.emit(withFields({ Journey_Stage__c: null }));
        await flush();
        expect(text(element, '.empty')).toContain('has not placed this record');
        getRecord.error({ message: 'Insufficient access' });
        await flush();
        expect(text(element, '.error')).toBe('Insufficient access');
    });
});

describe('pace', () => {
    it('counts whole days and matches the service\'s stall rule (stalled after expected + 1 days)', () => {
        const entered = '2026-11-01T00:00:00.000Z';
        const stalls = '2026-11-23T00:00:00.000Z'; // 21 expected days
        expect(pace(entered, stalls, new Date('2026-11-22T23:59:00Z'))).toEqual(
            { daysInStage: 21, expectedDays: 21, daysLeft: 0, daysOver: 0 });
        expect(pace(entered, stalls, new Date('2026-11-23T00:00:00Z'))).toEqual(
            { daysInStage: 22, expectedDays: 21, daysLeft: 0, daysOver: 1 });
        expect(pace(entered, null, new Date('2026-11-05T00:00:00Z'))).toEqual(
            { daysInStage: 4, expectedDays: null, daysLeft: null, daysOver: 0 });
        expect(paceText(pace(entered, null, new Date('2026-11-05T00:00:00Z')), false))
            .toBe('4 days in stage; this stage never stalls');
        expect(pace(null, stalls)).toBeNull();
    });
});
