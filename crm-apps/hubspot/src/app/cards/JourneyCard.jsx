import React, { useEffect, useState } from 'react';
import {
  DescriptionList, DescriptionListItem, Divider, ErrorState, Flex, Heading, hubspot, Link,
  LoadingSpinner, ProgressBar, StepIndicator, Table, TableBody, TableCell, TableHead,
  TableHeader, TableRow, Tag, Text,
} from '@hubspot/ui-extensions';
import { days, errorMessage, journeyUrl, pace, shortDate } from './journey.js';

hubspot.extend(({ context }) => <JourneyCard context={context} fetcher={hubspot.fetch} />);

/** Loads the record's journey from Journey Sync (signed by HubSpot) and shows it. */
export function JourneyCard({ context, fetcher }) {
  const [state, setState] = useState({ loading: true });
  const url = journeyUrl(context);
  useEffect(() => {
    if (!url) {
      setState({ error: 'This card works on deals and contacts.' });
      return undefined;
    }
    let live = true;
    (async () => {
      try {
        const response = await fetcher(url, { method: 'GET', timeout: 10000 });
        const next = response.ok
          ? { journey: await response.json() }
          : { error: await errorMessage(response) };
        if (live) setState(next);
      } catch (exc) {
        if (live) setState({ error: `Journey Sync could not be reached (${exc.message})` });
      }
    })();
    return () => {
      live = false;
    };
  }, [url, fetcher]);
  if (state.loading) return <LoadingSpinner label="Loading the journey" />;
  if (state.error) {
    return (
      <ErrorState title="No journey to show">
        <Text>{state.error}</Text>
      </ErrorState>
    );
  }
  return <JourneyView journey={state.journey} />;
}

/** One record's journey: path, pace, stalled badge, persona, action, owner, timeline, link. */
export function JourneyView({ journey }) {
  const current = journey.is_exit ? journey.stages.length : (journey.position ?? 1) - 1;
  const expected = journey.expected_days;
  return (
    <Flex direction="column" gap="sm">
      <Flex direction="row" gap="sm" align="center">
        <Heading>{journey.stage_label}</Heading>
        {journey.is_exit && <Tag testId="exit-tag" variant="info">{journey.stage_label}</Tag>}
        {journey.stalled && (
          <Tag testId="stalled-tag" variant="error">Stalled {days(journey.days_over)} over</Tag>
        )}
      </Flex>
      <StepIndicator
        testId="journey-path"
        stepNames={journey.stages.map((s) => s.label)}
        currentStep={current}
      />
      {expected ? (
        <ProgressBar
          testId="pace"
          title={`${days(journey.days_in_stage)} in stage of ${days(expected)} expected`}
          value={Math.min(journey.days_in_stage, expected)}
          maxValue={expected}
          valueDescription={pace(journey)}
          variant={journey.stalled ? 'danger' : journey.days_left <= 2 ? 'warning' : 'success'}
        />
      ) : (
        <Text testId="pace-text">{pace(journey)}</Text>
      )}
      <DescriptionList direction="row">
        <DescriptionListItem label="Persona">
          <Text testId="persona">{journey.persona_label}</Text>
        </DescriptionListItem>
        <DescriptionListItem label="Owner">
          <Text testId="owner">{journey.owner_name ?? journey.owner_id ?? 'No owner'}</Text>
        </DescriptionListItem>
      </DescriptionList>
      <Text format={{ fontWeight: 'bold' }}>Next best action</Text>
      <Text testId="action">{journey.next_best_action ?? 'No action for this stage'}</Text>
      {journey.goal && <Text testId="goal" variant="microcopy">Stage goal: {journey.goal}</Text>}
      <Divider />
      <Table testId="timeline" bordered={false}>
        <TableHead>
          <TableRow>
            <TableHeader>Stage</TableHeader>
            <TableHeader>Entered</TableHeader>
            <TableHeader>Days</TableHeader>
          </TableRow>
        </TableHead>
        <TableBody>
          {journey.timeline.map((span) => (
            <TableRow key={`${span.stage}-${span.entered_at}`}>
              <TableCell>{span.stalled ? `${span.label} (stalled)` : span.label}</TableCell>
              <TableCell>{shortDate(span.entered_at)}</TableCell>
              <TableCell>{span.days ?? '—'}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {journey.link && (
        <Link testId="record-link" href={{ url: journey.link, external: true }}>
          Open in Journey Sync
        </Link>
      )}
    </Flex>
  );
}
