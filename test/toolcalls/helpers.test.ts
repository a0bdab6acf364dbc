import { describe, expect, it } from 'vitest'
import { callFromObject, callsFromJson, toArguments } from '../../src/toolcalls/call-shape.js'
import { createDeclaredTools } from '../../src/toolcalls/declared-tools.js'
import { decodeHtmlEntities, parseFlexibleJson } from '../../src/toolcalls/flexible-json.js'
import { pythonCallAt, pythonCallListAt } from '../../src/toolcalls/python-call.js'
import { NO, PARTIAL, jsonValueEnd, literalAt, whichLiteralAt } from '../../src/toolcalls/scan.js'
import { trimFramingNewlines, typeXmlValue } from '../../src/toolcalls/schema-typing.js'

describe('flexible JSON', () => {
  it.each([
    ['{"a": 1}', { a: 1 }],
    ["{'a': 'b',}", { a: 'b' }],
    ['{"a": True, "b": None, "c": False}', { a: true, b: null, c: false }],
    ['{"s": "Not True"}', { s: 'Not True' }],
    ['{&quot;a&quot;: &quot;x &amp; y&quot;}', { a: 'x & y' }],
    ['{"text": "line\nbreak"}', { text: 'line\nbreak' }],
    ['```json\n{"a": [1, 2,]}\n```', { a: [1, 2] }],
    ['{a: 1, /* c */ b: "x"}', { a: 1, b: 'x' }],
  ])('parses %j', (text, value) => {
    expect(parseFlexibleJson(text)).toEqual({ ok: true, value })
  })
  it('fails without echoing', () => {
    expect(parseFlexibleJson('{nope')).toEqual({ ok: false })
    expect(decodeHtmlEntities('&#39;&#x41;&lt;')).toBe("'A<")
  })
})

describe('call shapes', () => {
  it('accepts call objects and rejects data', () => {
    expect(callFromObject({ name: 'f', arguments: '{"a":1}' })).toEqual({ name: 'f', arguments: { a: 1 } })
    expect(callFromObject({ name: 'f', parameters: { a: 1 }, type: 'function', id: 'x' })).toEqual({ name: 'f', arguments: { a: 1 } })
    expect(callFromObject({ id: 'x', type: 'function', function: { name: 'f', arguments: "{'a': None}" } })).toEqual({ name: 'f', arguments: { a: null } })
    expect(callFromObject({ name: 'f', arguments: {}, extra: 1 })).toBeUndefined()
    expect(callFromObject({ name: 'f' }, { requireArguments: true })).toBeUndefined()
    expect(callFromObject({ name: 'None', arguments: {} })).toBeUndefined()
    expect(callsFromJson({ tool_calls: [{ name: 'f', arguments: {} }, { name: 'g', arguments: {} }] })?.map((c) => c.name)).toEqual(['f', 'g'])
    expect(callsFromJson([{ name: 'f', arguments: {} }, { city: 'x' }])).toBeUndefined()
    expect(toArguments('"{\\"a\\": 1}"')).toEqual({ a: 1 })
    expect(toArguments('')).toEqual({})
    expect(toArguments(3)).toBeUndefined()
  })
})

describe('schema typing of XML values', () => {
  it('types from the schema and keeps misfits as strings', () => {
    expect(typeXmlValue('3', { type: 'integer' })).toBe(3)
    expect(typeXmlValue('3.5', { type: 'number' })).toBe(3.5)
    expect(typeXmlValue('True', { type: 'boolean' })).toBe(true)
    expect(typeXmlValue("{'a': [1]}", { type: 'object' })).toEqual({ a: [1] })
    expect(typeXmlValue('[1, 2]', { type: 'array' })).toEqual([1, 2])
    expect(typeXmlValue('None', { type: ['string', 'null'] })).toBeNull()
    expect(typeXmlValue('0042', { type: 'string' })).toBe('0042')
    expect(typeXmlValue('abc', { type: 'integer' })).toBe('abc')
    expect(typeXmlValue('7', { anyOf: [{ type: 'integer' }, { type: 'string' }] })).toBe(7)
    expect(typeXmlValue('[1]', undefined, { untyped: 'json' })).toEqual([1])
    expect(typeXmlValue('[1]', undefined)).toBe('[1]')
    expect(trimFramingNewlines('\n\na\n\n')).toBe('\na\n')
  })
})

describe('scanning helpers', () => {
  it('answer PARTIAL at the end and NO on a mismatch', () => {
    expect(literalAt('<tool', 0, '<tool_call>')).toBe(PARTIAL)
    expect(literalAt('<toil', 0, '<tool_call>')).toBe(NO)
    expect(whichLiteralAt('<tool_call', 0, ['<tool_call>', '<tool_calls>'])).toBe(PARTIAL)
    expect(whichLiteralAt('<tool_call>', 0, ['<tool_call>', '<tool_calls>'])).toBe(0)
    expect(jsonValueEnd('{"a": "}"} tail', 0)).toBe(10)
    expect(jsonValueEnd('{"a": [}', 0)).toBe(NO)
    const memo = new Map<string, unknown>()
    expect(jsonValueEnd('{"a": "x', 0, memo)).toBe(PARTIAL)
    expect(jsonValueEnd('{"a": "x"}', 0, memo)).toBe(10)
  })
  it('parse pythonic calls', () => {
    expect(pythonCallAt("f(a=1, b='x', c=[True, None], d={'k': (1, 2)})", 0)).toEqual({ name: 'f', arguments: { a: 1, b: 'x', c: [true, null], d: { k: [1, 2] } }, end: 46 })
    expect(pythonCallAt('f(a="""multi\nline""")', 0)).toMatchObject({ arguments: { a: 'multi\nline' } })
    expect(pythonCallAt('f(a=1', 0)).toBe(PARTIAL)
    expect(pythonCallAt('f(1)', 0)).toBe(NO)
    expect(pythonCallListAt('[f(), g(x=-2.5e1)]', 0)).toMatchObject({ calls: [{ name: 'f' }, { name: 'g', arguments: { x: -25 } }] })
  })
  it('resolve declared names exactly, case-insensitively, and without a namespace', () => {
    const tools = createDeclaredTools([{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }, 'Search'])
    expect(tools.resolve('get_weather')).toBe('get_weather')
    expect(tools.resolve('GET_WEATHER')).toBe('get_weather')
    expect(tools.resolve('functions.search')).toBe('Search')
    expect(tools.resolve('other')).toBeUndefined()
    expect(tools.schema('get_weather')).toEqual({ type: 'object' })
    expect(createDeclaredTools([{ name: 'bare', parameters: { type: 'object' } }]).schema('bare')).toEqual({ type: 'object' })
  })
})
