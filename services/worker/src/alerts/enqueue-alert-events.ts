import type { Queue } from 'bullmq';
import { QUEUES, alertJobId } from '@city/queue';
import type { AlertEvent } from '@city/schema';

/** Hands events to the alerts role. The job id is the event id: enqueuing an event twice delivers it once. */
export async function enqueueAlertEvents(alertsQueue: Queue, events: readonly AlertEvent[]): Promise<void> {
  if (events.length === 0) return;
  await alertsQueue.addBulk(events.map((event) => ({ name: QUEUES.alerts.jobName, data: event, opts: { ...QUEUES.alerts.jobOptions, jobId: alertJobId(event.id) } })));
}
