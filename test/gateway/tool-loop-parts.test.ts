import { describe, expect, it } from 'vitest'
import { argsParseError, errorOutcome, exampleArguments, unknownToolError } from '../../src/gateway/tool-call-errors.js'
import { callEndLine, callStartLine, noteLine } from '../../src/gateway/tool-progress.js'
import type { ToolDefinition } from '../../src/openai/types.js'

const weather: ToolDefinition = {
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        days: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
        place: { type: 'object', properties: { lat: { type: 'number' }, tags: { type: 'array', items: { type: 'string' } } }, required: ['lat', 'tags'] },
        verbose: { type: 'boolean', default: false },
      },
      required: ['city', 'unit', 'days', 'place', 'verbose'],
    },
  },
}

describe('the tool loop\'s progress lines', () => {
  it('shows the call with short arguments, then size and time, or the error', () => {
    expect(callStartLine('get_weather', { city: 'Paris' })).toBe('→ get_weather {"city":"Paris"}\n')
    const long = callStartLine('search', { query: 'x'.repeat(500) })
    expect(long.length).toBeLessThan(140)
    expect(long.endsWith('…\n')).toBe(true)
    expect(callEndLine({ name: 'get_weather', ok: true, content: 'x', truncated: false, bytes: 48, durationMs: 12.4 })).toBe('← get_weather: 48 B in 12 ms\n')
    expect(callEndLine({ name: 'get_weather', ok: true, content: 'x', truncated: true, bytes: 65_536, durationMs: 1500 })).toBe('← get_weather: 64.0 KB (cut) in 1.5 s\n')
    const failed = callEndLine({ name: 'get_weather', ok: false, content: '{}', error: { code: 'tool_timeout', message: 'The tool took longer than 60 s.' }, truncated: false, bytes: 2, durationMs: 60_000 })
    expect(failed).toBe('← get_weather failed (tool_timeout) in 60.0 s: The tool took longer than 60 s.\n')
    expect(noteLine('limit')).toBe('· limit\n')
  })
})

describe('the tool loop\'s own tool errors', () => {
  it('builds example arguments from the schema: defaults, enums, optional unions, nested objects and arrays', () => {
    expect(exampleArguments(weather.function.parameters)).toEqual({ city: '<string>', unit: 'celsius', days: 1, place: { lat: 1, tags: ['<string>'] }, verbose: false })
    expect(exampleArguments(undefined)).toEqual({})
    expect(exampleArguments({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'number' } } })).toEqual({ a: '<string>', b: 1 })
  })

  it('stops at a depth on a self-nesting schema', () => {
    const node: Record<string, unknown> = { type: 'object', properties: {}, required: ['child'] }
    ;(node.properties as Record<string, unknown>).child = node
    expect(JSON.stringify(exampleArguments(node)).length).toBeLessThan(200)
  })

  it('says which tools exist for an unknown one, and shows the right form for a call it could not read', () => {
    expect(unknownToolError('launch', ['get_weather'])).toMatchObject({ code: 'unknown_tool', available: ['get_weather'] })
    const error = argsParseError('get_weather', { reason: 'arguments are not valid JSON', text: `{"city": oops${'x'.repeat(1000)}`, format: 'kimi_k2' }, [weather])
    expect(error).toMatchObject({ code: 'tool_args_parse_error', format: 'kimi_k2', example: { name: 'get_weather', arguments: { city: '<string>' } } })
    expect(String(error.message)).toContain('get_weather')
    expect(String(error.text).length).toBeLessThanOrEqual(501)
    expect(argsParseError(undefined, { reason: 'no name' }, [weather]).example).toMatchObject({ name: 'get_weather' })
    const outcome = errorOutcome('get_weather', error)
    expect(outcome).toMatchObject({ ok: false, name: 'get_weather', error })
    expect(JSON.parse(outcome.content)).toEqual(error)
    expect(outcome.bytes).toBe(new TextEncoder().encode(outcome.content).byteLength)
  })
})
