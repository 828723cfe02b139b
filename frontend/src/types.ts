// Shared shapes: the workflow definition as the API stores it, the node types the API
// describes, runs and their logs, and the editor's React Flow nodes and edges.
import type { Edge, Node } from '@xyflow/react'

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type Config = Record<string, unknown>

export interface DefNode {
  id: string
  type: string
  config?: Config
  position?: { x: number; y: number }
  [key: string]: unknown
}
export interface DefEdge { from: string; to: string; port?: string }
export interface Definition {
  name?: string
  nodes: DefNode[]
  edges: DefEdge[]
  [key: string]: unknown
}

export interface JsonSchema {
  type?: string
  title?: string
  description?: string
  default?: unknown
  enum?: unknown[]
  format?: string
  minimum?: number
  maximum?: number
  minLength?: number
  maxLength?: number
  pattern?: string
  properties?: Record<string, JsonSchema>
  required?: string[]
  additionalProperties?: JsonSchema | boolean
  anyOf?: JsonSchema[]
  items?: JsonSchema
  nullable?: boolean
  'x-expression'?: boolean
  'x-secret'?: boolean
  [key: string]: unknown
}

export interface NodeTypeInfo {
  type: string
  label: string
  category: string
  description?: string
  icon?: string
  inputs: string[]
  outputs: string[]
  is_trigger?: boolean
  dynamic_outputs?: boolean
  config_schema?: JsonSchema
  /** The output's JSON Schema where the type declares it (completion before a run). */
  output_schema?: JsonSchema | null
  settings_schema?: JsonSchema
  secret_fields?: string[]
}

export interface NodeData extends Record<string, unknown> {
  nodeType: string
  config: Config
  extra: Record<string, unknown> & { settings?: Config }
}
export type WfNode = Node<NodeData, 'wfaib'>
export type WfEdge = Edge

export interface RunLog {
  node_id: string
  node_type?: string
  status: string
  input?: unknown
  output?: unknown
  error?: string | null
  duration_ms?: number | null
  attempt?: number
  ports?: string[] | null
}
export interface Run {
  id: number
  status: string
  input?: unknown
  error?: string | null
  error_node_id?: string | null
  logs?: RunLog[]
  trigger?: string
  /** A test run's plan: which nodes gave pinned or earlier data instead of running. */
  test?: { mode: string; node: string | null; pinned: string[]; reused: Record<string, number>; only: string[] | null } | null
}

/** GET /api/runs/<id>/partial: the text so far of nodes at work (streamed model answers). */
export interface PartialAnswer {
  run: number
  status: string
  nodes: Record<string, { text: string; scope?: string; updated_at?: string }>
}

/** A node's output pinned as test data (used by test runs from the editor only). */
export interface Pin { value: unknown; port: string; bytes?: number; at?: string; by?: string }
export interface TestRun { mode: 'workflow' | 'step' | 'from'; node?: string; from_run?: number }

export interface Workflow {
  id: number
  name: string
  version: number
  definition: Definition
  is_active?: boolean
  webhook_url?: string
  webhook_auth?: string
  webhook_mode?: string
  webhook_path?: string | null
}

export interface EditorConfig {
  workflowId: number | null
  apiBase: string
  csrfToken: string
  editorUrlTemplate?: string
  runUrlTemplate?: string
  runsUrlTemplate?: string
  variablesUrl?: string
  portsUrl?: string
  presenceUrlTemplate?: string
  presenceInterval?: number
  templates?: { key: string; name: string; definition: Definition }[]
  user?: string
}

export interface FieldErrors { fields: Record<string, string[]>; settings: Record<string, string[]>; other: string[] }
export interface ErrorMap { nodes: Record<string, FieldErrors>; general: { path?: string; message: string }[] }
