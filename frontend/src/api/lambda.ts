// CVAT's lambda API as the automatic annotation uses it: the functions (models), and the
// auto-annotation requests of a task (start, read, list, cancel).
import { api, type ApiClient } from "./client";
import type { FunctionCall, FunctionCallRequest, LambdaFunction } from "./types";

export function listFunctions(client: ApiClient = api): Promise<LambdaFunction[]> {
  return client.get<LambdaFunction[]>("/api/lambda/functions");
}

/** 200 with the request; 409 while another request of the task runs; 400 for a bad mapping. */
export function startFunctionCall(body: FunctionCallRequest, client: ApiClient = api): Promise<FunctionCall> {
  return client.post<FunctionCall>("/api/lambda/requests", body);
}

/** The caller's requests that have not failed (CVAT leaves failed ones out), oldest first. */
export function listFunctionCalls(client: ApiClient = api): Promise<FunctionCall[]> {
  return client.get<FunctionCall[]>("/api/lambda/requests");
}

export function getFunctionCall(id: string, client: ApiClient = api): Promise<FunctionCall> {
  return client.get<FunctionCall>(`/api/lambda/requests/${encodeURIComponent(id)}`);
}

/** 204; the request then reads as failed, "Canceled by the user.". */
export function cancelFunctionCall(id: string, client: ApiClient = api): Promise<void> {
  return client.delete(`/api/lambda/requests/${encodeURIComponent(id)}`);
}
