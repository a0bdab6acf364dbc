import { describe, expect, it } from 'vitest'
import { openApiTools } from '../../src/tools/openapi-tools.js'
import { loadOpenApi } from './load-openapi.js'

const weather = loadOpenApi('fastapi-weather')

describe('openApiTools', () => {
  it('makes one tool per POST operation below the prefix, named by usable operationId else by the path', () => {
    const { tools, skipped } = openApiTools(weather, { pathPrefix: '/tools' })
    expect(tools.map((tool) => [tool.name, tool.path])).toEqual([
      ['get_forecast', '/tools/get_forecast'],
      ['search_places', '/tools/search_places'],
      ['org_chart_tools_org_chart_post', '/tools/org_chart'],
      ['update_item', '/tools/items/{item_id}'],
      ['tag_all', '/tools/tag_all'],
      ['ping', '/tools/ping'],
    ])
    expect(skipped).toEqual(['POST /tools/upload: the request body is not JSON (multipart/form-data)'])
  })

  it('without a prefix every POST operation is a tool', () => {
    const names = openApiTools(weather).tools.map((tool) => tool.name)
    expect(names).toContain('reset')
    expect(names).not.toContain('status')
  })

  it('accepts a prefix without its leading slash or with a trailing one', () => {
    expect(openApiTools(weather, { pathPrefix: 'tools/' }).tools).toHaveLength(6)
    expect(openApiTools(weather, { pathPrefix: '/admin' }).tools.map((tool) => tool.name)).toEqual(['reset'])
  })

  it('describes the tool from summary and description, and its parameters from the body', () => {
    const forecast = openApiTools(weather).tools.find((tool) => tool.name === 'get_forecast')
    expect(forecast?.definition.function.description).toBe('Get Forecast\n\nForecast for a city, day by day.')
    expect(forecast?.definition.function.parameters?.required).toEqual(['city', 'note'])
    expect(forecast?.hasBody).toBe(true)
    expect(forecast?.bodyKey).toBeUndefined()
  })

  it('adds path and query parameters to the arguments (header ones are not the model’s to set)', () => {
    const update = openApiTools(weather).tools.find((tool) => tool.name === 'update_item')
    expect(update?.pathParams).toEqual(['item_id'])
    expect(update?.query).toEqual(['verbose'])
    expect(update?.definition.function.parameters).toEqual({
      type: 'object',
      properties: {
        name: { type: 'string' },
        price: { type: 'number', exclusiveMinimum: 0 },
        item_id: { type: 'integer' },
        verbose: { type: 'boolean', default: false, description: 'Say more' },
      },
      required: ['name', 'item_id'],
    })
  })

  it('wraps a body that is not an object in a `body` argument; no body gives no arguments', () => {
    const tools = openApiTools(weather).tools
    const tagAll = tools.find((tool) => tool.name === 'tag_all')
    expect(tagAll?.bodyKey).toBe('body')
    expect(tagAll?.definition.function.parameters).toEqual({ type: 'object', properties: { body: { type: 'array', items: { type: 'string' } } }, required: ['body'] })
    const ping = tools.find((tool) => tool.name === 'ping')
    expect(ping?.hasBody).toBe(false)
    expect(ping?.definition.function.parameters).toEqual({ type: 'object', properties: {} })
  })

  it('skips a second operation with a taken name and an operation whose path gives no name', () => {
    const document = {
      paths: {
        '/a': { post: { operationId: 'same' } },
        '/b': { post: { operationId: 'same' } },
        '/': { post: {} },
        '/c/{id}': { post: {} },
      },
    }
    const { tools, skipped } = openApiTools(document)
    expect(tools.map((tool) => tool.name)).toEqual(['same'])
    expect(skipped).toEqual(['POST /b: the name same is taken by another operation', 'POST /: no usable tool name', 'POST /c/{id}: the path parameter {id} is not described'])
  })

  it('reads a document with no paths as no tools', () => {
    expect(openApiTools(null)).toEqual({ tools: [], skipped: ['the document has no paths'] })
  })
})
