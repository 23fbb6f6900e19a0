/**
 * The current request's id, available to code deep in a request (the database layer sets it as
 * `request.id` so audit entries carry it) without threading it through every call.
 */
import { AsyncLocalStorage } from "node:async_hooks";

const store = new AsyncLocalStorage<{ requestId: string }>();

export function runWithRequestId<T>(requestId: string, fn: () => Promise<T>): Promise<T> {
  return store.run({ requestId }, fn);
}

export function currentRequestId(): string | undefined {
  return store.getStore()?.requestId;
}
