import { createParser } from 'eventsource-parser'
import { describe, expect, it, vi } from 'vitest'
import { QueuegateError, UpstreamError } from '../../src/errors.js'
import { byteSourceStream } from '../../src/gateway/byte-source.js'
import type { ByteSink, ByteSource } from '../../src/gateway/byte-source.js'
import { UpstreamBody } from '../../src/gateway/upstream-body.js'
import type { BodyController } from '../../src/gateway/upstream-body.js'
import { decodeChunk, relayBytes, relayChunks, relayEvents } from '../../src/gateway/upstream-relay.js'
import type { ChunkTransform } from '../../src/gateway/chunk-pipeline.js'
import type { ChatCompletionChunk } from '../../src/openai/types.js'
import type { RelayEnd, RelayOptions } from '../../src/gateway/upstream-relay.js'
import { withTimeout } from '../helpers/with-timeout.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const bytes = (text: string): Uint8Array => encoder.encode(text)
const DONE = 'data: [DONE]\n\n'

/** A dispatch controller that records what it was asked. */
class FakeController implements BodyController {
  readonly calls: string[] = []
  pause(): void {
    this.calls.push('pause')
  }
  resume(): void {
    this.calls.push('resume')
  }
  abort(): void {
    this.calls.push('abort')
  }
}

/** A sink that records every call; `answer` decides what `write` returns. */
class CollectingSink implements ByteSink {
  readonly log: string[] = []
  readonly errors: Error[] = []
  answer = true
  write(chunk: Uint8Array): boolean {
    this.log.push(`write:${decoder.decode(chunk)}`)
    return this.answer
  }
  end(chunk?: Uint8Array): void {
    this.log.push(`end:${chunk === undefined ? '' : decoder.decode(chunk)}`)
  }
  error(error: Error): void {
    this.log.push(`error:${error.message}`)
    this.errors.push(error)
  }
  /** Everything written and ended with, concatenated. */
  get text(): string {
    return this.log
      .filter((entry) => entry.startsWith('write:') || entry.startsWith('end:'))
      .map((entry) => entry.slice(entry.indexOf(':') + 1))
      .join('')
  }
}

/** An upstream body on a fake controller, a relay over it started on a collecting sink. */
function setup(relay: (body: UpstreamBody, options: RelayOptions) => ByteSource, options: Omit<RelayOptions, 'onEnd' | 'onCancel'> = {}) {
  const body = new UpstreamBody()
  const controller = new FakeController()
  body.attach(controller)
  const onEnd = vi.fn<(reason: RelayEnd, error?: Error) => void>()
  const onCancel = vi.fn<(reason: unknown) => void>()
  const source = relay(body, { ...options, onEnd, onCancel })
  const sink = new CollectingSink()
  source.start(sink)
  /** Pushes a chunk as the dispatch handler does (a false answer pauses the controller). */
  const push = (chunk: string): boolean => {
    const more = body.push(bytes(chunk))
    if (!more) controller.pause()
    return more
  }
  return { body, controller, source, sink, onEnd, onCancel, push }
}

/** The `data` of every event in an SSE text. */
function events(text: string): string[] {
  const found: string[] = []
  createParser({ onEvent: (event) => found.push(event.data) }).feed(text)
  return found
}

describe('relayEvents', () => {
  it('an event whose data is not a JSON object ends the stream with the error event instead (its text never relayed), after the events before it', () => {
    const { sink, push, controller, onEnd } = setup(relayEvents)
    push('data: {"a":1}\n\ndata: <html>oops</html>\n\ndata: {"b":1}\n\n')
    const all = events(sink.text)
    expect(all[0]).toBe('{"a":1}')
    expect(JSON.parse(all[1] ?? '')).toMatchObject({ error: { code: 'upstream_bad_event', message: expect.stringContaining('not a JSON object') } })
    expect(all).toHaveLength(2)
    expect(sink.text).not.toContain('oops')
    expect(controller.calls).toEqual(['abort'])
    expect(onEnd).toHaveBeenCalledWith('error', expect.objectContaining({ code: 'upstream_bad_event' }))
  })

  it('a JSON object with spaces around it still passes; so does one after a comment (the parser path)', () => {
    const { sink, push, onEnd } = setup(relayEvents)
    push('data: {"a":1} \n\n: keep-alive\n\ndata:  {"b":2}\n\ndata: [DONE]\n\n')
    expect(events(sink.text)).toEqual(['{"a":1} ', ' {"b":2}', '[DONE]'])
    expect(onEnd).toHaveBeenCalledWith('done', undefined)
  })

  it('a non-JSON event on the parser path (after a comment) ends the stream too', () => {
    const { sink, push } = setup(relayEvents)
    push(': hello\n\ndata: {"a":1}\n\ndata: plain text\n\n')
    const all = events(sink.text)
    expect(all[0]).toBe('{"a":1}')
    expect(JSON.parse(all[1] ?? '')).toMatchObject({ error: { code: 'upstream_bad_event' } })
    expect(sink.text).not.toContain('plain text')
  })

  it('relays complete events as bytes as they arrive, and nothing for a partial one', () => {
    const { sink, push, onEnd } = setup(relayEvents)
    push('data: {"a":1}\n\n')
    push('data: {"b"')
    expect(sink.log).toEqual(['write:data: {"a":1}\n\n'])
    push(':2}\n\ndata: {"c":3}\n\n')
    expect(sink.log).toEqual(['write:data: {"a":1}\n\n', 'write:data: {"b":2}\n\ndata: {"c":3}\n\n'])
    expect(onEnd).not.toHaveBeenCalled()
  })

  it('[DONE] in the middle of a chunk ends the sink with the last events and calls onEnd("done") once; the rest is read and dropped', () => {
    const { sink, push, body, controller, onEnd, onCancel, source } = setup(relayEvents)
    push('data: {"a":1}\n\n')
    expect(push('data: {"b":1}\n\ndata: [DONE]\n\ndata: {"c":1}\n\n')).toBe(true)
    expect(sink.log).toEqual(['write:data: {"a":1}\n\n', `end:data: {"b":1}\n\n${DONE}`])
    expect(onEnd.mock.calls).toEqual([['done', undefined]])
    // What follows keeps being read (no pause, no abort) so the connection goes back to the pool.
    expect(push('data: {"d":1}\n\n')).toBe(true)
    body.finish()
    expect(sink.log).toHaveLength(2)
    expect(onEnd).toHaveBeenCalledTimes(1)
    expect(controller.calls).toEqual([])
    // A cancel after the end does nothing.
    source.cancel('late')
    expect(onEnd).toHaveBeenCalledTimes(1)
    expect(onCancel).not.toHaveBeenCalled()
    expect(controller.calls).toEqual([])
  })

  it('[DONE] as the first thing ends the sink with just [DONE]', () => {
    const { sink, push, onEnd } = setup(relayEvents)
    push(DONE)
    expect(sink.log).toEqual([`end:${DONE}`])
    expect(onEnd.mock.calls).toEqual([['done', undefined]])
  })

  it('an upstream end without [DONE] ends the sink with [DONE]', () => {
    const { sink, push, body, onEnd } = setup(relayEvents)
    push('data: {"a":1}\n\n')
    body.finish()
    expect(sink.log).toEqual(['write:data: {"a":1}\n\n', `end:${DONE}`])
    expect(onEnd.mock.calls).toEqual([['done', undefined]])
  })

  it('an empty upstream body ends the sink with [DONE]', () => {
    const { sink, body, onEnd } = setup(relayEvents)
    body.finish()
    expect(sink.log).toEqual([`end:${DONE}`])
    expect(onEnd).toHaveBeenCalledOnce()
  })

  it('a failure mid-stream ends the sink with one `data: {"error": …}` event and calls onEnd("error", error)', () => {
    const { sink, push, body, onEnd, controller } = setup(relayEvents)
    push('data: {"a":1}\n\n')
    push('data: {"partial')
    body.fail(new Error('socket hang up'))
    expect(sink.log).toHaveLength(2)
    expect(sink.log[0]).toBe('write:data: {"a":1}\n\n')
    expect(sink.log[1]?.startsWith('end:data: ')).toBe(true)
    const [first, payload, ...rest] = events(sink.text)
    expect(first).toBe('{"a":1}')
    expect(rest).toEqual([])
    expect(JSON.parse(payload ?? '')).toEqual({ error: { message: 'The upstream stream failed: socket hang up', type: 'upstream_error', param: null, code: 'upstream_error' } })
    expect(onEnd).toHaveBeenCalledOnce()
    const [reason, error] = onEnd.mock.calls[0] ?? []
    expect(reason).toBe('error')
    expect(QueuegateError.isInstance(error)).toBe(true)
    expect(error?.message).toBe('The upstream stream failed: socket hang up')
    expect(controller.calls).toEqual([])
  })

  it('a failure before the first event is the one error event, and a queuegate error passes through as it is', () => {
    const { sink, body, onEnd } = setup(relayEvents)
    const failure = new UpstreamError('Upstream gpu1 reset the connection.', { code: 'upstream_reset' })
    body.fail(failure)
    expect(events(sink.text).map((data) => JSON.parse(data) as unknown)).toEqual([{ error: failure.toJSON().error }])
    expect(onEnd.mock.calls).toEqual([['error', failure]])
  })

  it('mapError decides the error the client sees', () => {
    const mapped = new UpstreamError('mapped', { code: 'mapped_code' })
    const mapError = vi.fn(() => mapped)
    const { sink, body, onEnd } = setup(relayEvents, { mapError })
    const original = new Error('raw')
    body.fail(original)
    expect(mapError).toHaveBeenCalledWith(original)
    expect(events(sink.text).map((data) => JSON.parse(data) as unknown)).toEqual([{ error: mapped.toJSON().error }])
    expect(onEnd.mock.calls).toEqual([['error', mapped]])
  })

  it('an event over maxEventChars aborts the upstream and ends the sink with the error event', () => {
    const { sink, push, controller, onEnd } = setup((body, options) => relayEvents(body, { ...options, maxEventChars: 16 }))
    push('data: {"ok":1}\n\n')
    push(`data: ${'x'.repeat(64)}`)
    expect(controller.calls).toEqual(['abort'])
    const all = events(sink.text)
    expect(all[0]).toBe('{"ok":1}')
    expect(all).toHaveLength(2)
    expect(JSON.parse(all[1] ?? '')).toMatchObject({ error: { code: 'upstream_bad_event', type: 'upstream_error' } })
    expect(onEnd).toHaveBeenCalledOnce()
    expect(onEnd.mock.calls[0]?.[0]).toBe('error')
    expect(sink.log.at(-1)?.startsWith('end:')).toBe(true)
    // The rest of the body goes nowhere.
    expect(push('data: {"late":1}\n\n')).toBe(true)
    expect(sink.log).toHaveLength(2)
  })

  it('cancel calls onEnd("cancel") and onCancel once, destroys the body (abort), and nothing reaches the sink after it', () => {
    const { sink, push, body, source, controller, onEnd, onCancel } = setup(relayEvents)
    push('data: {"a":1}\n\n')
    source.cancel('client gone')
    source.cancel('again')
    expect(onEnd.mock.calls).toEqual([['cancel', undefined]])
    expect(onCancel.mock.calls).toEqual([['client gone']])
    expect(controller.calls).toEqual(['abort'])
    expect(body.settled).toBe(true)
    push('data: {"b":1}\n\n')
    body.finish()
    expect(sink.log).toEqual(['write:data: {"a":1}\n\n'])
  })

  it('a cancel after an upstream failure does nothing', () => {
    const { body, source, controller, onEnd, onCancel } = setup(relayEvents)
    body.fail(new Error('x'))
    source.cancel('late')
    expect(onEnd).toHaveBeenCalledOnce()
    expect(onCancel).not.toHaveBeenCalled()
    expect(controller.calls).toEqual([])
  })

  it('backpressure: a sink answering false pauses the upstream until resume(), which flushes in order', () => {
    const { sink, push, body, source, controller, onEnd } = setup(relayEvents)
    sink.answer = false
    expect(push('data: {"a":1}\n\n')).toBe(false)
    expect(controller.calls).toEqual(['pause'])
    push('data: {"b":1}\n\n')
    push('data: {"c":1}\n\n')
    body.finish()
    expect(sink.log).toEqual(['write:data: {"a":1}\n\n'])
    expect(onEnd).not.toHaveBeenCalled()
    source.resume()
    expect(sink.log).toEqual(['write:data: {"a":1}\n\n', 'write:data: {"b":1}\n\n'])
    sink.answer = true
    source.resume()
    expect(sink.log).toEqual(['write:data: {"a":1}\n\n', 'write:data: {"b":1}\n\n', 'write:data: {"c":1}\n\n', `end:${DONE}`])
    expect(onEnd.mock.calls).toEqual([['done', undefined]])
  })

  it('backpressure: the upstream socket is resumed once the sink takes more', () => {
    const { sink, push, source, controller } = setup(relayEvents)
    sink.answer = false
    push('data: {"a":1}\n\n')
    sink.answer = true
    source.resume()
    expect(controller.calls).toEqual(['pause', 'resume'])
    expect(push('data: {"b":1}\n\n')).toBe(true)
    expect(sink.log).toEqual(['write:data: {"a":1}\n\n', 'write:data: {"b":1}\n\n'])
  })

  it('a failure while the sink is paused comes after the events before it, once the sink resumes', () => {
    const { sink, push, body, source, onEnd } = setup(relayEvents)
    sink.answer = false
    push('data: {"a":1}\n\n')
    push('data: {"b":1}\n\n')
    body.fail(new Error('reset'))
    expect(onEnd).not.toHaveBeenCalled()
    sink.answer = true
    source.resume()
    const all = events(sink.text)
    expect(all.slice(0, 2)).toEqual(['{"a":1}', '{"b":1}'])
    expect(JSON.parse(all[2] ?? '')).toMatchObject({ error: { message: 'The upstream stream failed: reset' } })
    expect(all).toHaveLength(3)
    expect(onEnd.mock.calls[0]?.[0]).toBe('error')
  })

  it('cancelling the web stream it is read through cancels the relay and aborts the upstream', async () => {
    const body = new UpstreamBody()
    const controller = new FakeController()
    body.attach(controller)
    const onEnd = vi.fn<(reason: RelayEnd, error?: Error) => void>()
    const onCancel = vi.fn<(reason: unknown) => void>()
    const reader = byteSourceStream(relayEvents(body, { onEnd, onCancel })).getReader()
    body.push(bytes('data: {"a":1}\n\n'))
    const first = await withTimeout(reader.read(), 2000, 'first read')
    expect(decoder.decode(first.value)).toBe('data: {"a":1}\n\n')
    await withTimeout(reader.cancel('client gone'), 2000, 'cancel')
    expect(onEnd.mock.calls).toEqual([['cancel', undefined]])
    expect(onCancel.mock.calls).toEqual([['client gone']])
    // The first chunk filled the stream's one-chunk buffer (pause), the read resumed it.
    expect(controller.calls).toEqual(['resume', 'abort'])
  })

  it('reads as a web stream: events, then [DONE]', async () => {
    const body = new UpstreamBody()
    body.attach(new FakeController())
    const text = new Response(byteSourceStream(relayEvents(body))).text()
    for (let index = 0; index < 20; index++) body.push(bytes(`data: {"n":${index},"c":"é東"}\n\n`))
    body.push(bytes(': keep-alive\n\ndata: {"n":"last"}\r\n\r\n'))
    body.finish()
    const all = events(await withTimeout(text, 2000, 'reading the relay'))
    expect(all).toHaveLength(22)
    expect(all.at(-2)).toBe('{"n":"last"}')
    expect(all.at(-1)).toBe('[DONE]')
  })
})

describe('relayBytes', () => {
  it('relays the bytes as they are and ends the sink at the upstream end, with onEnd("done") once', () => {
    const { sink, push, body, onEnd } = setup(relayBytes)
    push('{"object":')
    push('"list","data":[]}')
    body.finish()
    body.finish()
    expect(sink.log).toEqual(['write:{"object":', 'write:"list","data":[]}', 'end:'])
    expect(onEnd.mock.calls).toEqual([['done', undefined]])
  })

  it('a failure errors the sink with the mapped error and calls onEnd("error", error)', () => {
    const { sink, push, body, onEnd } = setup(relayBytes)
    push('{"partial')
    body.fail(new Error('socket hang up'))
    expect(sink.log).toEqual(['write:{"partial', 'error:The upstream stream failed: socket hang up'])
    expect(sink.errors[0]).toBeInstanceOf(UpstreamError)
    expect(onEnd.mock.calls).toEqual([['error', sink.errors[0]]])
  })

  it('cancel calls onEnd("cancel") and onCancel once and aborts the upstream; a cancel after the end does nothing', () => {
    const first = setup(relayBytes)
    first.push('a')
    first.source.cancel('gone')
    first.source.cancel('gone again')
    expect(first.onEnd.mock.calls).toEqual([['cancel', undefined]])
    expect(first.onCancel.mock.calls).toEqual([['gone']])
    expect(first.controller.calls).toEqual(['abort'])
    first.push('b')
    first.body.finish()
    expect(first.sink.log).toEqual(['write:a'])

    const second = setup(relayBytes)
    second.body.finish()
    second.source.cancel('late')
    expect(second.onEnd.mock.calls).toEqual([['done', undefined]])
    expect(second.onCancel).not.toHaveBeenCalled()
    expect(second.controller.calls).toEqual([])
  })

  it('backpressure: a sink answering false pauses the upstream until resume()', () => {
    const { sink, push, body, source, controller } = setup(relayBytes)
    sink.answer = false
    expect(push('a')).toBe(false)
    push('b')
    body.finish()
    expect(sink.log).toEqual(['write:a'])
    sink.answer = true
    source.resume()
    expect(sink.log).toEqual(['write:a', 'write:b', 'end:'])
    expect(controller.calls).toEqual(['pause'])
  })
})

describe('relayChunks (the answer through chunk transforms)', () => {
  const chunk = (content: string): string => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`
  /** A transform that upper-cases content and holds the last chunk back until flush (as a detector holds a tail). */
  const upperHoldingLast = (onChunk: (chunk: ChatCompletionChunk) => void): ChunkTransform => {
    let held: ChatCompletionChunk | undefined
    return {
      feed(next) {
        if (held !== undefined) onChunk(held)
        // A new chunk, as transforms do: the one received is never changed.
        const choice = next.choices[0]
        const content = choice?.delta.content
        held = typeof content === 'string' && choice !== undefined ? { ...next, choices: [{ ...choice, delta: { ...choice.delta, content: content.toUpperCase() } }] } : next
      },
      flush() {
        if (held !== undefined) onChunk(held)
        held = undefined
      },
    }
  }
  const contents = (text: string): string[] =>
    events(text).map((data) => (data === '[DONE]' ? data : ((JSON.parse(data) as ChatCompletionChunk).choices[0]?.delta.content ?? '')))

  it('feeds every chunk to the chain, writes what it emits once per network read, and flushes it at [DONE]', () => {
    const { sink, push, onEnd } = setup((body, options) => relayChunks(body, upperHoldingLast, options))
    push(chunk('a') + chunk('b'))
    push(chunk('c'))
    expect(sink.log.filter((entry) => entry.startsWith('write:'))).toHaveLength(2)
    push(`${chunk('d')}data: [DONE]\n\n${chunk('after')}`)
    expect(contents(sink.text)).toEqual(['A', 'B', 'C', 'D', '[DONE]'])
    expect(sink.log.at(-1)).toMatch(/^end:/)
    expect(onEnd.mock.calls).toEqual([['done', undefined]])
  })

  it('flushes the chain and adds [DONE] when the upstream ends without it', () => {
    const { sink, push, body, onEnd } = setup((body, options) => relayChunks(body, upperHoldingLast, options))
    push(chunk('x'))
    body.finish()
    expect(contents(sink.text)).toEqual(['X', '[DONE]'])
    expect(onEnd).toHaveBeenCalledWith('done', undefined)
  })

  it('ends with one error event after what was emitted when the upstream sends an error payload, and aborts the upstream', () => {
    const { sink, push, controller, onEnd } = setup((body, options) => relayChunks(body, upperHoldingLast, options))
    push(chunk('a') + chunk('b') + 'data: {"error":{"message":"model crashed"}}\n\n')
    const found = events(sink.text)
    expect(found.slice(0, 1).map((data) => (JSON.parse(data) as ChatCompletionChunk).choices[0]?.delta.content)).toEqual(['A'])
    expect(JSON.parse(found.at(-1) as string)).toMatchObject({ error: { message: 'Upstream error: model crashed', code: 'upstream_error' } })
    expect(found).not.toContain('[DONE]')
    expect(onEnd.mock.calls[0]?.[0]).toBe('error')
    expect(controller.calls).toContain('abort')
  })

  it('never echoes a payload that is not a JSON object', () => {
    const { sink, push } = setup((body, options) => relayChunks(body, upperHoldingLast, options))
    push('data: <html>secret</html>\n\n')
    expect(sink.text).not.toContain('secret')
    expect(JSON.parse(events(sink.text).at(-1) as string)).toMatchObject({ error: { code: 'upstream_bad_event' } })
  })

  it('turns an upstream failure mid-stream into the error event, and a cancel into onCancel and an abort', () => {
    const failed = setup((body, options) => relayChunks(body, upperHoldingLast, options))
    failed.push(chunk('a'))
    failed.body.fail(new UpstreamError('connection reset'))
    expect(JSON.parse(events(failed.sink.text).at(-1) as string)).toMatchObject({ error: { message: 'connection reset' } })
    expect(failed.onEnd.mock.calls[0]?.[0]).toBe('error')

    const cancelled = setup((body, options) => relayChunks(body, upperHoldingLast, options))
    cancelled.push(chunk('a'))
    cancelled.source.cancel('gone')
    expect(cancelled.onEnd.mock.calls).toEqual([['cancel', undefined]])
    expect(cancelled.onCancel).toHaveBeenCalledWith('gone')
    expect(cancelled.controller.calls).toContain('abort')
    cancelled.push(chunk('late'))
    expect(cancelled.sink.text).not.toContain('LATE')
  })

  it('pauses the upstream while the sink is full', () => {
    const { sink, push, controller, source } = setup((body, options) => relayChunks(body, upperHoldingLast, options))
    sink.answer = false
    push(chunk('a') + chunk('b'))
    expect(controller.calls).toEqual(['pause'])
    sink.answer = true
    source.resume()
    expect(controller.calls).toEqual(['pause', 'resume'])
  })
})

describe('relayChunks: chunks passed on unchanged', () => {
  const passThrough = (onChunk: (chunk: ChatCompletionChunk) => void): ChunkTransform => ({ feed: onChunk, flush: () => {} })
  const copying = (onChunk: (chunk: ChatCompletionChunk) => void): ChunkTransform => ({ feed: (chunk) => onChunk({ ...chunk }), flush: () => {} })

  it('go out as the upstream text itself; chunks a transform made are serialized', () => {
    const original = '{"id": "c",  "object":"chat.completion.chunk", "choices":[{"index":0,"delta":{"content":"caf\\u00e9"},"finish_reason":null}]}'
    const same = setup((body, options) => relayChunks(body, passThrough, options))
    same.push(`data: ${original}\n\ndata: [DONE]\n\n`)
    expect(same.sink.text).toBe(`data: ${original}\n\n${DONE}`)

    const made = setup((body, options) => relayChunks(body, copying, options))
    made.push(`data: ${original}\n\ndata: [DONE]\n\n`)
    expect(made.sink.text).toBe(`data: ${JSON.stringify(JSON.parse(original))}\n\n${DONE}`)
  })

  it('a payload spread over several data: lines is passed on as one line (its own text would break the framing)', () => {
    const { sink, push } = setup((body, options) => relayChunks(body, passThrough, options))
    push('data: {"id":"m",\ndata: "choices":[]}\n\ndata: [DONE]\n\n')
    expect(sink.text).toBe(`data: {"id":"m","choices":[]}\n\n${DONE}`)
  })

  it('a chunk the relay had to complete (no choices) is serialized with its choices', () => {
    const { sink, push } = setup((body, options) => relayChunks(body, passThrough, options))
    push('data: {"id":"u","usage":{"total_tokens":3}}\n\ndata: [DONE]\n\n')
    expect(sink.text).toBe(`data: {"id":"u","usage":{"total_tokens":3},"choices":[]}\n\n${DONE}`)
  })

  it('a chunk held across network reads and passed on later is serialized (its text is not kept)', () => {
    let held: ChatCompletionChunk | undefined
    const holdFirst = (onChunk: (chunk: ChatCompletionChunk) => void): ChunkTransform => ({
      feed: (chunk) => {
        if (held === undefined) held = chunk
        else onChunk(chunk)
      },
      flush: () => {
        if (held !== undefined) onChunk(held)
      },
    })
    const { sink, push } = setup((body, options) => relayChunks(body, holdFirst, options))
    push('data: {"id":"a" ,"choices":[]}\n\n')
    push('data: {"id":"b" ,"choices":[]}\n\ndata: [DONE]\n\n')
    expect(sink.text).toBe(`data: {"id":"b" ,"choices":[]}\n\ndata: {"id":"a","choices":[]}\n\n${DONE}`)
  })
})

describe('decodeChunk', () => {
  it('gives a chunk with choices (an empty list when missing), or the error an error payload or a non-object carries', () => {
    expect(decodeChunk('{"id":"x"}')).toEqual({ id: 'x', choices: [] })
    expect(decodeChunk('{"error":"boom"}')).toMatchObject({ message: 'Upstream error: boom' })
    expect(decodeChunk('[1]')).toBeInstanceOf(QueuegateError)
    expect(decodeChunk('nope')).toBeInstanceOf(UpstreamError)
  })
})
