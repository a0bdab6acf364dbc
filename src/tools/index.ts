/**
 * Server-side tools: the {@link ToolRegistry} over OpenAPI tool servers and MCP servers, and its parts.
 * @module
 */
export { createToolRegistry, PREFIX_SEPARATOR } from './tool-registry.js'
export type { ToolRegistryOptions, ToolSourceEntry } from './tool-registry.js'
export { createOpenApiSource } from './openapi-source.js'
export type { OpenApiServerOptions, OpenApiSourceOptions } from './openapi-source.js'
export { createMcpSource } from './mcp-source.js'
export type { McpServerOptions, McpSourceOptions } from './mcp-source.js'
export { openApiTools } from './openapi-tools.js'
export type { OpenApiTool, OpenApiToolsResult } from './openapi-tools.js'
export { toParametersSchema, toToolSchema } from './openapi-schema.js'
export { ToolCallError } from './tool-call-error.js'
export type { ToolCallOptions, ToolError, ToolOutcome, ToolRegistry, ToolSource } from './types.js'
