/**
 * The registry of text tool-call formats the engine loads. Order is priority: when several
 * formats could match at the same place, the first in this list that does not reject wins.
 * Adding a format = one file in this folder + one import and one entry here.
 * @module
 */
import { bareNameJson } from './bare-name-json.js'
import { fencedCalls } from './fenced-calls.js'
import { functionGemma, gemma4, gemma4Stripped } from './gemma4.js'
import { hermes } from './hermes.js'
import { jsonCalls } from './json-calls.js'
import { lfm2 } from './lfm2.js'
import { llama3PythonTag } from './llama3-python-tag.js'
import { llama4Pythonic } from './llama4-pythonic.js'
import { mistral } from './mistral.js'
import { olmo3 } from './olmo3.js'
import { pythonic } from './pythonic.js'
import { qwen3CoderXml } from './qwen3-coder-xml.js'
import { anthropicInvokeXml } from './anthropic-invoke-xml.js'
import { deepseekV3 } from './deepseek-v3.js'
import { deepseekV31 } from './deepseek-v31.js'
import { deepseekV32Dsml } from './deepseek-v32-dsml.js'
import { deepseekV4Dsml } from './deepseek-v4-dsml.js'
import { deepseekV41Dsml } from './deepseek-v41-dsml.js'
import { glm45 } from './glm45.js'
import { hyV3 } from './hy-v3.js'
import { hyV4 } from './hy-v4.js'
import { kimiK2 } from './kimi-k2.js'
import { longcat } from './longcat.js'
import { harmony } from './harmony.js'
import { harmonyStripped } from './harmony-stripped.js'
import { minimaxM1 } from './minimax-m1.js'
import { minimaxM2 } from './minimax-m2.js'
import { seedOss } from './seed-oss.js'
import { granite } from './granite.js'
import { phi4Functools } from './phi4-functools.js'
import { phi4ToolCallTag } from './phi4-tool-call-tag.js'
import { internlm } from './internlm.js'
import { toolCallsArrayTag } from './tool-calls-array-tag.js'
import { functionaryV32 } from './functionary-v32.js'
import { commandR } from './command-r.js'
import { nemotronToolcall } from './nemotron-toolcall.js'
import { apertus } from './apertus.js'
import { step3 } from './step3.js'
import { gigachat3 } from './gigachat3.js'
import { lmstudioToolRequest } from './lmstudio-tool-request.js'
import { bracketCallingTool } from './bracket-calling-tool.js'
import { minicpm5 } from './minicpm5.js'
import { glimmerAtem, glimmerAtemRecipient } from './glimmer-atem.js'
import type { ToolCallFormat } from './types.js'

/** Every built-in format, in priority order. */
export const toolCallFormats: readonly ToolCallFormat[] = [
  // Lead engineer's formats.
  hermes,
  qwen3CoderXml,
  mistral,
  llama3PythonTag,
  llama4Pythonic,
  olmo3,
  lfm2,
  gemma4,
  functionGemma,
  jsonCalls,
  pythonic,
  bareNameJson,
  gemma4Stripped,
  fencedCalls,
  // Second engineer's formats: add imports above and entries below this line.
  deepseekV3,
  deepseekV31,
  deepseekV32Dsml,
  deepseekV4Dsml,
  deepseekV41Dsml,
  anthropicInvokeXml,
  kimiK2,
  glm45,
  hyV3,
  hyV4,
  longcat,
  harmony,
  harmonyStripped,
  minimaxM1,
  minimaxM2,
  seedOss,
  granite,
  phi4Functools,
  phi4ToolCallTag,
  internlm,
  toolCallsArrayTag,
  functionaryV32,
  commandR,
  nemotronToolcall,
  apertus,
  step3,
  gigachat3,
  lmstudioToolRequest,
  bracketCallingTool,
  minicpm5,
  glimmerAtem,
  glimmerAtemRecipient,
]
