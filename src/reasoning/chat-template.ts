/**
 * What a model's chat template (Jinja text, as llama.cpp's `GET /props` gives it in
 * `chat_template`) says of its replies: whether the generation prompt opens a think block, so
 * that replies start inside it (Qwen3-Thinking, QwQ, DeepSeek-R1 end it with `<think>\n`).
 * @module
 */

/** Open tags a generation prompt may end with. */
const OPENERS = ['<think>', '<thinking>', '<seed:think>']
/** Names a template branches on to turn thinking on or off (then the prompt opens a block only sometimes). */
const SWITCHES = /\b(?:enable_thinking|thinking|reasoning_effort)\b/
/** A Jinja string literal. */
const LITERALS = /'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g
/** The longest template read (templates are a few KB; a bigger text is not looked into). */
const MAX_TEMPLATE_CHARS = 256 * 1024

/**
 * True when the template's generation prompt (its last `add_generation_prompt` block) always
 * ends inside a think block: a string literal in the block holds an open tag with no close tag
 * after it, and the block does not branch on a thinking switch (Qwen3's hybrid template writes
 * `<think>\n\n</think>` only when `enable_thinking` is false; DeepSeek V3.1 opens a block only
 * when `thinking` is set). False when it cannot tell.
 */
export function templateOpensThink(template: string): boolean {
  if (typeof template !== 'string' || template.length > MAX_TEMPLATE_CHARS) return false
  const at = template.lastIndexOf('add_generation_prompt')
  if (at === -1) return false
  // The block: from the condition to its {% endif %} (or the end of the template).
  const end = template.indexOf('endif', at)
  const block = template.slice(at + 'add_generation_prompt'.length, end === -1 ? undefined : end)
  // Names outside string literals (a literal may well hold `<thinking>`).
  if (SWITCHES.test(block.replace(LITERALS, "''"))) return false
  let opens = false
  for (const literal of block.matchAll(LITERALS)) {
    const text = literal[1] ?? literal[2] ?? ''
    const open = Math.max(...OPENERS.map((tag) => text.lastIndexOf(tag)))
    if (open === -1) continue
    opens = !/<\/(?:think|thinking|seed:think)>/.test(text.slice(open))
  }
  return opens
}
