import { describe, expect, it } from 'vitest'
import type { ChatCompletionChunk } from '../../src/openai/types.js'
import { ToolCallDetector } from '../../src/toolcalls/tool-call-detector.js'
import { mergeChunks } from '../helpers/merge-chunks.js'
import { arrayToStream, collectStream } from '../helpers/streams.js'
import { TEST_TOOLS, toChunks } from './format-cases.js'

describe('ToolCallDetector', () => {
  it('recovers calls through the platform: array → ReadableStream → pipeThrough → array', async () => {
    const text = 'Checking the weather.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    const output = await collectStream(arrayToStream(toChunks([...text])).pipeThrough(new ToolCallDetector({ tools: TEST_TOOLS })))
    const message = mergeChunks(output as unknown as Record<string, unknown>[])
    expect(message.content).toBe('Checking the weather.')
    expect(message.finishReason).toBe('tool_calls')
    expect(message.toolCalls).toHaveLength(1)
    expect(message.toolCalls[0]!.id).toMatch(/^call_/)
    expect(JSON.parse(message.toolCalls[0]!.function.arguments)).toEqual({ city: 'Paris' })
  })

  it('streams visible text before the stream ends', async () => {
    const seen: string[] = []
    const input = new ReadableStream<ChatCompletionChunk>({
      start(controller) {
        for (const c of toChunks(['Hello ', 'there', ', friend'])) controller.enqueue(c)
        // Not closed yet: the text must already be out.
      },
    })
    const reader = input.pipeThrough(new ToolCallDetector({ tools: TEST_TOOLS })).getReader()
    while (seen.join('') !== 'Hello there, friend') {
      const { value, done } = await reader.read()
      if (done === true) break
      const content = value.choices[0]?.delta.content
      if (typeof content === 'string') seen.push(content)
    }
    expect(seen.join('')).toBe('Hello there, friend')
    await reader.cancel()
  })

  it('throws on bad options at construction', () => {
    expect(() => new ToolCallDetector({ tools: TEST_TOOLS, formats: ['martian'] })).toThrow(/formats: unknown format "martian"/)
  })
})
