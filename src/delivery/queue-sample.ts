import type { Queue } from "bullmq";
import { JOB_PRIORITY } from "./delivery-job.ts";
import type { QueueSample } from "./delivery-metrics.ts";

/** Job counts for `kefu_queue_jobs`: waiting ones per priority, the other states over all priorities. */
export async function sampleQueue(queue: Queue): Promise<QueueSample[]> {
  const priorities = Object.entries(JOB_PRIORITY);
  const [byPriority, counts] = await Promise.all([
    queue.getCountsPerPriority(priorities.map(([, value]) => value)),
    queue.getJobCounts("active", "delayed", "failed", "completed"),
  ]);
  const samples: QueueSample[] = priorities.map(([name, value]) => ({ state: "waiting", priority: name, count: Number(byPriority[value] ?? 0) }));
  for (const [state, count] of Object.entries(counts)) samples.push({ state, priority: "all", count });
  return samples;
}
