/**
 * Node's own answers to requests it cannot hand to a handler (unparsable HTTP, headers too
 * large, a request that did not arrive in time) have empty bodies; this `'clientError'`
 * handler gives them the OpenAI error body every other answer has. `serve()` installs it; with
 * your own server: `server.on('clientError', answerClientError)`.
 * @module
 */
import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import { QueuegateError } from '../errors.js'

/** The error node's HTTP parser (or its request timeout) reported for a client's connection. */
type ClientError = Error & { code?: string | undefined }

/** Writes an OpenAI-shaped 400/408/413/431 on the socket and closes it (as node does, with a body). */
export function answerClientError(error: ClientError, socket: Duplex): void {
  // Nothing to say to a client that is gone, or once part of a response went out on this socket.
  if (error.code === 'ECONNRESET' || !socket.writable || (socket as Duplex & { bytesWritten?: number }).bytesWritten !== 0) {
    socket.destroy()
    return
  }
  const failure = clientErrorFor(error)
  const body = JSON.stringify(failure.toJSON())
  socket.end(
    `HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    // Flushed: the connection is done (a client that keeps its side open does not hold it).
    () => socket.destroy(),
  )
}

/** The error answer for a parser or timeout error code (node's own statuses). */
export function clientErrorFor(error: ClientError): QueuegateError {
  const options = { type: 'invalid_request_error', cause: error }
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new QueuegateError('The request headers are too large.', { ...options, status: 431, code: 'headers_too_large' })
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new QueuegateError('The chunk extensions of the request body are too large.', { ...options, status: 413, code: 'payload_too_large' })
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new QueuegateError('The request (headers and body) did not arrive in time.', { ...options, status: 408, code: 'request_timeout' })
    default:
      return new QueuegateError(`The request is not valid HTTP${error.code === undefined ? '' : ` (${error.code})`}.`, { ...options, status: 400, code: 'bad_request' })
  }
}
