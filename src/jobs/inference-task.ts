/**
 * A synchronous NIM inference (`POST /v1/vista3d/inference`) handed to the workers instead of run by
 * the answering server (`nimInference: workers`): the server puts the image in the shared data
 * directory, queues a task in the job store and waits; any worker claims it, runs the very same
 * `runInference`, writes the label file beside the image and records the outcome; the server answers
 * from that file. Tasks are leased like jobs, so a worker that dies mid-task loses it to another.
 * @module
 */
import { join } from 'node:path';
import type { InferenceTiming, OutputOptions } from '../pipeline/inference.js';
import type { NimPrompts } from '../pipeline/prompts.js';

export interface InferenceTaskRequest {
  /** The image file name in the task folder. */
  readonly input: string;
  readonly prompts?: NimPrompts;
  readonly output: OutputOptions;
}

/** What the worker reports; the label file itself is `fileName` in the task folder. */
export type InferenceTaskOutcome =
  | {
      readonly ok: true;
      readonly worker: string;
      readonly fileName: string;
      readonly stem: string;
      readonly engine: string;
      readonly timing: InferenceTiming;
      readonly zeroShot: Readonly<Record<string, number>>;
      readonly labelNames: Readonly<Record<number, string>>;
    }
  | {
      readonly ok: false;
      readonly worker: string;
      /** A VoxgateError code: the server answers with that error's status. */
      readonly code: string;
      readonly message: string;
    };

export type InferenceTaskState = 'Queued' | 'InProcess' | 'Completed';

export interface InferenceTask {
  readonly taskId: string;
  readonly state: InferenceTaskState;
  readonly request: InferenceTaskRequest;
  readonly outcome?: InferenceTaskOutcome;
  /** How many times a worker has taken it. */
  readonly claims: number;
}

export interface InferenceTaskStore {
  /** Queues a task (announced on `watch('tasks')`). */
  createTask(taskId: string, request: InferenceTaskRequest): Promise<void>;
  getTask(taskId: string): Promise<InferenceTask | undefined>;
  /** Leases the oldest runnable task (Queued, or InProcess with an expired lease) to `owner`. */
  claimTask(owner: string, leaseMs: number): Promise<InferenceTask | undefined>;
  /** Extends the lease; false when `owner` no longer holds it. */
  renewTask(taskId: string, owner: string, leaseMs: number): Promise<boolean>;
  /**
   * Records the outcome, ends the task and announces it on `watch('task-ended')`.
   * @throws VoxgateError VXG_ERR_JOB_LEASE_LOST when `owner` does not hold the lease (or the task is gone).
   */
  finishTask(taskId: string, owner: string, outcome: InferenceTaskOutcome): Promise<void>;
  /** Removes the task (the server, once it has answered or given up). */
  deleteTask(taskId: string): Promise<void>;
}

/** `<dataDir>/nim-tasks/<taskId>/`: the image and the label file, on storage every process shares. */
export function inferenceTaskFolder(dataDir: string, taskId: string): string {
  return join(dataDir, 'nim-tasks', taskId);
}
