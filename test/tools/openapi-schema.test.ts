import { describe, expect, it } from 'vitest'
import { toParametersSchema, toToolSchema } from '../../src/tools/openapi-schema.js'
import { loadOpenApi } from './load-openapi.js'

const weather = loadOpenApi('fastapi-weather')
const ref = (name: string): unknown => ({ $ref: `#/components/schemas/${name}` })

describe('toToolSchema', () => {
  it('inlines $refs, reduces Optional (anyOf with null) to its type, keeps required, enums, bounds and defaults, drops titles', () => {
    expect(toToolSchema(ref('ForecastRequest'), weather)).toEqual({
      type: 'object',
      properties: {
        city: { type: 'string', description: 'City name, e.g. Oslo' },
        days: { type: 'integer', minimum: 1, maximum: 14, default: 3 },
        units: { type: 'string', enum: ['metric', 'imperial'], description: 'Unit system' },
        location: { type: 'object', properties: { lat: { type: 'number' }, lon: { type: 'number' } }, required: ['lat', 'lon'], default: null },
        include: { type: 'array', items: { type: 'string', enum: ['temperature', 'wind', 'rain'] } },
        // Required and nullable (pydantic `note: Optional[str]` with no default): null stays allowed.
        note: { type: ['string', 'null'] },
      },
      required: ['city', 'note'],
    })
  })

  it('merges allOf (model inheritance, and a field wrapping a $ref to carry its description)', () => {
    expect(toToolSchema(ref('PlaceQuery'), weather)).toEqual({
      type: 'object',
      properties: {
        limit: { type: 'integer', default: 10 },
        near: { type: 'object', properties: { lat: { type: 'number' }, lon: { type: 'number' } }, required: ['lat', 'lon'], description: 'Search around this point' },
        kind: { type: 'string', enum: ['cafe', 'park', 'museum'] },
      },
      required: ['near'],
    })
  })

  it('cuts a recursive $ref where it comes back, with a note', () => {
    const node = toToolSchema(ref('Node'), weather)
    const children = (node.properties as Record<string, Record<string, unknown>>).children
    expect(children?.type).toBe('array')
    const item = children?.items as Record<string, unknown>
    expect(item.type).toBe('object')
    expect(item.properties).toBeUndefined()
    expect(String(item.description)).toMatch(/Node: the same structure again \(a recursive reference/)
    expect(children?.default).toEqual([])
  })

  it('reads OpenAPI 3.0: nullable, example, boolean exclusiveMinimum, allOf around an enum with a default', () => {
    const notes = loadOpenApi('openapi30-nullable')
    expect(toToolSchema(ref('Note'), notes)).toEqual({
      type: 'object',
      properties: {
        text: { type: 'string', examples: ['buy milk'] },
        priority: { type: 'integer' },
        score: { type: 'number', exclusiveMinimum: 0 },
        color: { type: 'string', enum: ['yellow', 'blue'], description: 'Note color', default: 'yellow' },
      },
      required: ['text'],
    })
  })

  it('keeps a union of several types as anyOf, and OpenAPI 3.1 type lists', () => {
    expect(toToolSchema({ anyOf: [{ type: 'string' }, { type: 'integer' }, { type: 'null' }], description: 'id' }, {})).toEqual({ description: 'id', anyOf: [{ type: 'string' }, { type: 'integer' }] })
    expect(toToolSchema({ type: ['integer', 'null'] }, {})).toEqual({ type: 'integer' })
    expect(toToolSchema({ oneOf: [{ type: 'null' }, { type: 'boolean' }] }, {})).toEqual({ type: 'boolean' })
  })

  it('notes a $ref it cannot resolve instead of failing', () => {
    expect(toToolSchema({ $ref: 'https://example.com/schema.json' }, {})).toEqual({ description: 'Unresolved reference "https://example.com/schema.json".' })
    expect(toToolSchema({ $ref: '#/components/schemas/Missing', description: 'x' }, {})).toEqual({ description: 'x' })
  })

  it('resolves $defs refs in a self-contained schema (MCP inputSchema) and always gives parameters an object', () => {
    const schema = { type: 'object', properties: { p: { $ref: '#/$defs/P' } }, $defs: { P: { type: 'string', title: 'P' } } }
    expect(toParametersSchema(schema, schema)).toEqual({ type: 'object', properties: { p: { type: 'string' } } })
    expect(toParametersSchema({}, {})).toEqual({ type: 'object', properties: {} })
  })

  it('stops at a nesting depth bound on a self-nesting document without refs cycling', () => {
    let deep: Record<string, unknown> = { type: 'string' }
    for (let level = 0; level < 100; level++) deep = { type: 'object', properties: { inner: deep } }
    const converted = JSON.stringify(toToolSchema(deep, {}))
    expect(converted).toMatch(/Nested too deep/)
    expect(converted.length).toBeLessThan(2000)
  })
})
