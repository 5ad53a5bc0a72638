import React from 'react';
import { describe, expect, it } from 'vitest';
import {
  ErrorState, LoadingSpinner, Link, ProgressBar, StepIndicator, TableCell, TableRow, Tag, Text,
} from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { JourneyCard, JourneyView } from '../JourneyCard.jsx';
import { answering, journey } from './fixtures.js';

describe('JourneyView', () => {
  it('shows the path with the current stage, pace, persona, owner and action', () => {
    const { render, find, findByTestId, maybeFindByTestId } = createRenderer('crm.record.tab');
    render(<JourneyView journey={journey()} />);
    const path = find(StepIndicator);
    expect(path.props.stepNames).toEqual(['Awareness', 'Consideration', 'Decision', 'Purchase']);
    expect(path.props.currentStep).toBe(1);
    const pace = find(ProgressBar);
    expect(pace.props.title).toBe('9 days in stage of 21 days expected');
    expect(pace.props.value).toBe(9);
    expect(pace.props.maxValue).toBe(21);
    expect(pace.props.valueDescription).toBe('12 days left before it stalls (expected 21 days)');
    expect(pace.props.variant).toBe('success');
    expect(findByTestId(Text, 'persona').text).toBe('Enterprise buyer');
    expect(findByTestId(Text, 'owner').text).toBe('Ada Lovelace');
    expect(findByTestId(Text, 'action').text).toBe('Send the ROI case study');
    expect(findByTestId(Text, 'goal').text).toBe('Stage goal: Show the buyer the solution fits their problem');
    expect(maybeFindByTestId(Tag, 'stalled-tag')).toBeNull();
  });

  it('badges a stalled record with the days over the expected time', () => {
    const { render, find, findByTestId } = createRenderer('crm.record.tab');
    render(<JourneyView journey={journey({
      stalled: true, days_in_stage: 30, days_left: 0, days_over: 9,
      next_best_action: 'Re-engage the champion',
    })} />);
    expect(findByTestId(Tag, 'stalled-tag').text).toBe('Stalled 9 days over');
    expect(findByTestId(Tag, 'stalled-tag').props.variant).toBe('error');
    const pace = find(ProgressBar);
    expect(pace.props.variant).toBe('danger');
    expect(pace.props.value).toBe(21);
    expect(pace.props.valueDescription).toBe('Stalled: 9 days over the expected 21 days');
  });

  it('lists the timeline oldest first and links to the record in the service', () => {
    const { render, findAll, find } = createRenderer('crm.record.tab');
    render(<JourneyView journey={journey()} />);
    const rows = findAll(TableRow).slice(1).map((row) => row.findAll(TableCell).map((cell) => cell.text));
    expect(rows).toEqual([['Awareness (stalled)', '2026-10-01', '51'], ['Consideration', '2026-11-21', '9']]);
    expect(find(Link).props.href).toEqual({
      url: 'https://journey.example.com/connections/1/records/deal/18462730001',
      external: true,
    });
  });

  it('shows an exit as closed, past every stage, without a stall clock', () => {
    const { render, find, findByTestId, maybeFind } = createRenderer('crm.record.tab');
    render(<JourneyView journey={journey({
      stage: 'lost', stage_label: 'Lost', position: null, is_exit: true,
      expected_days: null, days_left: null, goal: null, owner_id: null, owner_name: null,
    })} />);
    expect(find(StepIndicator).props.currentStep).toBe(4);
    expect(findByTestId(Tag, 'exit-tag').text).toBe('Lost');
    expect(maybeFind(ProgressBar)).toBeNull();
    expect(findByTestId(Text, 'pace-text').text).toBe('Closed: Lost');
    expect(findByTestId(Text, 'owner').text).toBe('No owner');
  });
});

describe('JourneyCard', () => {
  it('fetches the record\'s journey through hubspot.fetch and renders it', async () => {
    const { fetcher, calls } = answering(journey());
    const { render, find, findByTestId, waitFor, mocks } = createRenderer('crm.record.tab');
    mocks.context.crm.objectTypeId = '0-3';
    mocks.context.crm.objectId = 18462730001;
    render(<JourneyCard context={mocks.context} fetcher={fetcher} />);
    expect(find(LoadingSpinner)).toBeTruthy();
    await waitFor(() => expect(findByTestId(Text, 'owner').text).toBe('Ada Lovelace'));
    expect(calls).toEqual([{ url: 'https://journey.example.com/cards/hubspot/deal/18462730001',
                             options: { method: 'GET', timeout: 10000 } }]);
  });

  it('asks for a contact on contact records', async () => {
    const { fetcher, calls } = answering(journey({ object: 'contact' }));
    const { render, findByTestId, waitFor, mocks } = createRenderer('crm.record.tab');
    mocks.context.crm.objectTypeId = '0-1';
    mocks.context.crm.objectId = 51;
    render(<JourneyCard context={mocks.context} fetcher={fetcher} />);
    await waitFor(() => expect(findByTestId(Text, 'persona').text).toBe('Enterprise buyer'));
    expect(calls[0].url).toBe('https://journey.example.com/cards/hubspot/contact/51');
  });

  it('shows the service\'s error message when the record is not synced yet', async () => {
    const { fetcher } = answering({ error: { code: 'NOT_FOUND', message: 'deal 9 has not been synced yet' } }, 404);
    const { render, find, waitFor, mocks } = createRenderer('crm.record.tab');
    mocks.context.crm.objectTypeId = '0-3';
    mocks.context.crm.objectId = 9;
    render(<JourneyCard context={mocks.context} fetcher={fetcher} />);
    await waitFor(() => expect(find(ErrorState).find(Text).text).toContain('deal 9 has not been synced yet'));
  });

  it('says so on objects other than deals and contacts, without calling the service', async () => {
    const { fetcher, calls } = answering(journey());
    const { render, find, waitFor, mocks } = createRenderer('crm.record.tab');
    mocks.context.crm.objectTypeId = '0-2';
    render(<JourneyCard context={mocks.context} fetcher={fetcher} />);
    await waitFor(() => expect(find(ErrorState).find(Text).text).toContain('works on deals and contacts'));
    expect(calls).toEqual([]);
  });
});
