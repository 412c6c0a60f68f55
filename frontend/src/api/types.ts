// CVAT's response shapes, as much of them as the UI reads (cvat-schema.yml names in comments).

export interface Paginated<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface BasicUser {
  url?: string;
  id: number;
  username: string;
  first_name: string;
  last_name: string;
}

export interface User extends BasicUser {
  email: string;
  groups: string[];
  is_staff: boolean;
  is_superuser: boolean;
  is_active: boolean;
  last_login: string | null;
  date_joined: string;
  has_analytics_access?: boolean;
}

export interface Organization {
  id: number;
  slug: string;
  name: string;
  description: string;
  created_date: string;
  updated_date: string;
  owner: BasicUser | null;
  contact: Record<string, string>;
}

export interface Summary {
  url: string;
  count: number;
}

export interface JobsSummary extends Summary {
  completed: number | null;
  validation: number | null;
}

export interface Project {
  id: number;
  url: string;
  name: string;
  owner: BasicUser | null;
  assignee: BasicUser | null;
  bug_tracker: string;
  status: string;
  organization: number | null;
  created_date: string;
  updated_date: string;
  dimension: string | null;
  labels: Summary;
  tasks: Summary;
}

export interface Task {
  id: number;
  url: string;
  name: string;
  project_id: number | null;
  mode: string;
  owner: BasicUser | null;
  assignee: BasicUser | null;
  bug_tracker: string;
  created_date: string;
  updated_date: string;
  overlap: number | null;
  segment_size: number;
  status: string;
  size: number;
  image_quality: number;
  data: number | null;
  dimension: string;
  subset: string;
  organization: number | null;
  labels: Summary;
  jobs: JobsSummary;
}

export interface Job {
  id: number;
  url: string;
  task_id: number;
  project_id: number | null;
  assignee: BasicUser | null;
  stage: string;
  state: string;
  start_frame: number;
  stop_frame: number;
  frame_count: number;
  type: string;
  mode: string;
  created_date: string;
  updated_date: string;
  organization: number | null;
}

export interface Attribute {
  id?: number;
  name: string;
  mutable: boolean;
  input_type: "checkbox" | "radio" | "number" | "text" | "select";
  default_value: string;
  values: string[];
}

export interface Label {
  id?: number;
  name: string;
  color?: string;
  type?: string;
  attributes: Attribute[];
  sublabels?: Label[];
  svg?: string;
  project_id?: number | null;
  task_id?: number | null;
  parent_id?: number | null;
}

export interface BackgroundRequest {
  id: string;
  status: "queued" | "started" | "finished" | "failed";
  message: string;
  progress: number | null;
  created_date: string;
  started_date: string | null;
  finished_date: string | null;
  expiry_date: string | null;
  owner: BasicUser | null;
  result_url: string | null;
  result_id: number | null;
  operation: { type: string; target: string; project_id: number | null; task_id: number | null; job_id: number | null; format: string | null; function_id?: string | null };
}

export interface AboutServer {
  name: string;
  description: string;
  version: string;
}

// --- organizations, webhooks, access tokens (issue 13: org/webhooks/admin/profile) ---

export interface Membership {
  id: number;
  user: BasicUser;
  organization: number;
  is_active: boolean;
  joined_date: string | null;
  role: string;
  invitation: string | null;
}

export interface Invitation {
  key: string;
  created_date: string;
  owner: BasicUser | null;
  role: string;
  user: BasicUser;
  organization: number;
  organization_info: { id: number; slug: string };
  expired: boolean | null;
  accepted: boolean;
}

export interface Webhook {
  id: number;
  url: string;
  target_url: string;
  description: string;
  type: "organization" | "project" | "server";
  content_type: string;
  is_active: boolean;
  enable_ssl: boolean;
  created_date: string | null;
  updated_date: string | null;
  owner: BasicUser | null;
  project_id: number | null;
  organization: number | null;
  events: string[];
  last_status?: number | null;
  last_delivery_date?: string | null;
}

export interface WebhookDelivery {
  id: number;
  webhook_id: number;
  event: string;
  status_code: number | null;
  redelivery: boolean;
  attempt: number | null;
  request_duration: number | null;
  created_date: string | null;
  updated_date: string | null;
  changed_fields: string;
  request: unknown;
  response: unknown;
}

export interface WebhookEvents {
  webhook_type: string;
  events: { key: string; group: { display_name: string } }[];
}

export interface AccessToken {
  id: number;
  name: string;
  created_date: string;
  updated_date: string;
  expiry_date: string | null;
  last_used_date: string | null;
  read_only: boolean;
  owner: BasicUser | null;
  value?: string; // the secret: only in the answer that creates the token
}

export interface DatasetFormatsInfo {
  importers: { name: string; ext: string; version: string; enabled: boolean; dimension: string }[];
  exporters: { name: string; ext: string; version: string; enabled: boolean; dimension: string }[];
}

// --- auto-annotation: CVAT's lambda API (/api/lambda/functions, /api/lambda/requests) ---

export interface FunctionAttributeSpec {
  name: string;
  input_type: string;
  values: string[];
}

export interface FunctionLabelSpec {
  name: string;
  type?: string; // "rectangle", "polygon", "mask", "unknown"...
  attributes?: FunctionAttributeSpec[];
  sublabels?: FunctionLabelSpec[];
}

/** A function (model) of `GET /api/lambda/functions`. */
export interface LambdaFunction {
  id: string;
  kind: "detector" | "interactor" | "tracker" | "reid" | string;
  name: string;
  description: string;
  version: number;
  labels_v2: FunctionLabelSpec[];
}

/** One entry of a FunctionCallRequest's mapping: the task label a model label goes to. */
export interface LabelMappingEntry {
  name: string;
  attributes?: Record<string, string>; // model attribute -> task attribute
}

/** The body of `POST /api/lambda/requests` (CVAT's FunctionCallRequest). */
export interface FunctionCallRequest {
  function: string;
  task: number;
  job?: number;
  threshold?: number;
  cleanup: boolean;
  conv_mask_to_poly?: boolean;
  mapping?: Record<string, LabelMappingEntry>;
}

/** An auto-annotation request (CVAT's FunctionCall); progress is a whole percentage. */
export interface FunctionCall {
  id: string;
  function: { id: string; task: number; threshold: number | null; job?: number };
  status: "queued" | "started" | "finished" | "failed" | null;
  enqueued: string | null;
  started: string | null;
  ended: string | null;
  progress: number | null;
  exc_info: string | null;
}
