import { LightningElement, api, wire } from 'lwc';
import { getRecord, getFieldValue, getFieldDisplayValue } from 'lightning/uiRecordApi';
import { getObjectInfo, getPicklistValues } from 'lightning/uiObjectInfoApi';
import { days, pace, paceText } from './journey';

const FIELDS = {
    stage: 'Journey_Stage__c',
    persona: 'Journey_Persona__c',
    action: 'Next_Best_Action__c',
    stalled: 'Journey_Stalled__c',
    enteredAt: 'Journey_Stage_Entered_At__c',
    stallsAt: 'Journey_Stalls_At__c',
    owner: 'Owner.Name'
};

/**
 * The customer journey of an Opportunity, Lead or Contact, read from the Journey Sync fields
 * through Lightning Data Service: the stage path in map order (the picklist's values), days in
 * stage against expected, the stalled badge, persona, next best action and owner.
 */
export default class JourneyPath extends LightningElement {
    @api recordId;
    @api objectApiName;
    record;
    error;
    stageValues = [];
    now = new Date();

    get qualifiedFields() {
        return Object.values(FIELDS).map((name) => `${this.objectApiName}.${name}`);
    }

    get stageField() {
        return `${this.objectApiName}.${FIELDS.stage}`;
    }

    // optionalFields: a user without field access sees an empty journey, not an error
    @wire(getRecord, { recordId: '$recordId', optionalFields: '$qualifiedFields' })
    wiredRecord({ data, error }) {
        this.record = data;
        this.error = error;
    }

    @wire(getObjectInfo, { objectApiName: '$objectApiName' })
    objectInfo;

    @wire(getPicklistValues, { recordTypeId: '$objectInfo.data.defaultRecordTypeId', fieldApiName: '$stageField' })
    wiredStages({ data }) {
        this.stageValues = data ? data.values : [];
    }

    value(name) {
        return this.record ? getFieldValue(this.record, `${this.objectApiName}.${FIELDS[name]}`) : undefined;
    }

    display(name) {
        if (!this.record) return undefined;
        return getFieldDisplayValue(this.record, `${this.objectApiName}.${FIELDS[name]}`) ?? this.value(name);
    }

    get hasJourney() {
        return Boolean(this.value('stage'));
    }

    get currentStage() {
        return this.value('stage');
    }

    get stageLabel() {
        return this.display('stage');
    }

    get steps() {
        return this.stageValues.map((v) => ({ value: v.value, label: v.label }));
    }

    get stalled() {
        return this.value('stalled') === true;
    }

    get pace() {
        return pace(this.value('enteredAt'), this.value('stallsAt'), this.now);
    }

    get paceText() {
        return paceText(this.pace, this.stalled);
    }

    get stalledText() {
        return `Stalled ${days(this.pace ? this.pace.daysOver : 0)} over`;
    }

    get persona() {
        return this.display('persona') || '—';
    }

    get action() {
        return this.value('action') || 'No action for this stage';
    }

    get owner() {
        return this.value('owner') || 'No owner';
    }

    get errorText() {
        return this.error && this.error.body ? this.error.body.message : 'The journey could not be loaded';
    }
}
