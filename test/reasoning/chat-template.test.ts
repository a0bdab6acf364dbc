import { describe, expect, it } from 'vitest'
import { templateOpensThink } from '../../src/reasoning/chat-template.js'

// The generation-prompt ends of real templates (abridged around it).
const QWEN3_THINKING_2507 = "{%- for message in messages %}…{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- '<|im_start|>assistant\\n<think>\\n' }}\n{%- endif %}\n"
const DEEPSEEK_R1 = "{% if add_generation_prompt %}{{'<｜Assistant｜><think>\\n'}}{% endif %}"
const QWQ = "{%- if add_generation_prompt %}\n    {{- '<|im_start|>assistant\\n<think>\\n' }}\n{%- endif %}\n"
const QWEN3_HYBRID = "{%- if add_generation_prompt %}\n    {{- '<|im_start|>assistant\\n' }}\n    {%- if enable_thinking is defined and enable_thinking is false %}\n        {{- '<think>\\n\\n</think>\\n\\n' }}\n    {%- endif %}\n{%- endif %}"
const DEEPSEEK_V31 = "{% if add_generation_prompt and not is_tool %}{% if thinking %}{{'<｜Assistant｜><think>'}}{% else %}{{'<｜Assistant｜></think>'}}{% endif %}{% endif %}"
const LLAMA3 = "{%- if add_generation_prompt %}\n    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n{%- endif %}"
const CLOSED = "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n' }}{% endif %}"

describe('templateOpensThink', () => {
  it('is true for templates whose generation prompt always ends inside a think block', () => {
    for (const template of [QWEN3_THINKING_2507, DEEPSEEK_R1, QWQ]) expect(templateOpensThink(template)).toBe(true)
  })
  it('is false for templates that open none, close it, or open one only with a thinking switch', () => {
    for (const template of [QWEN3_HYBRID, DEEPSEEK_V31, LLAMA3, CLOSED, '', 'no prompt block <think>']) expect(templateOpensThink(template)).toBe(false)
    expect(templateOpensThink(`${'x'.repeat(300 * 1024)}${DEEPSEEK_R1}`)).toBe(false)
  })
})
