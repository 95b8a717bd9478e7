"""Regenerates chat-cases.jsonl: extra chat-template goldens rendered by Python jinja2 with the environment
Hugging Face transformers uses (trim_blocks, lstrip_blocks, tojson = json.dumps(ensure_ascii=False, ...),
raise_exception, strftime_now), with the clock fixed at 2026-11-28T09:05:03.

Usage: python3 make_chat_cases.py QWEN3_TOKENIZER_CONFIG_JSON > chat-cases.jsonl
"""
import json
import sys
from datetime import datetime

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

NOW = datetime(2026, 11, 28, 9, 5, 3)


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def render(template, **kwargs):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: NOW.strftime(fmt)
    return env.from_string(template).render(**kwargs)


WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Météo « actuelle » d'une ville",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"},
                          "days": {"type": "integer", "minimum": 1, "maximum": 7.5}, "metric": {"type": "boolean", "default": True},
                          "hint": {"type": ["string", "null"], "default": None}, "tags": {"type": "array", "items": {}}},
                          "required": ["city"]}}}
CALC = {"type": "function", "function": {"name": "calc", "description": "Tab\there, quote \" and backslash \\ and 1e-05",
        "parameters": {"type": "object", "properties": {"expr": {"type": "string"}}, "required": []}}}

QWEN3_CASES = [
    dict(messages=[{"role": "system", "content": "You route weather questions."},
                   {"role": "user", "content": "Weather in Zürich?"}], tools=[WEATHER, CALC], add_generation_prompt=True),
    dict(messages=[{"role": "user", "content": "Weather in Paris and Oslo?"},
                   {"role": "assistant", "content": "", "tool_calls": [
                       {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}},
                       {"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}}]},
                   {"role": "tool", "content": "{\"temp\": 21.5}"},
                   {"role": "tool", "content": "{\"temp\": -3}"},
                   {"role": "assistant", "content": "<think>\nBoth known.\n</think>\n\nParis 21.5°, Oslo −3°."}],
         tools=[WEATHER], add_generation_prompt=False),
    dict(messages=[{"role": "user", "content": "Hi"},
                   {"role": "assistant", "content": "<think>\ngreet\n</think>\n\nHello!"},
                   {"role": "user", "content": "<tool_response>x</tool_response>"},
                   {"role": "assistant", "content": "Answer", "reasoning_content": "\nthought about it\n"}],
         add_generation_prompt=False),
    dict(messages=[{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}, {"role": "system", "content": "late"}],
         add_generation_prompt=True, enable_thinking=False),
    dict(messages=[{"role": "user", "content": "Q"}], add_generation_prompt=True, enable_thinking=True),
]

GENERIC_TEMPLATE = """{{ bos_token }}Today is {{ strftime_now('%d %b %Y') }} ({{ strftime_now('%Y-%m-%d %H:%M:%S %A %B %j') }}).
{% if messages[0]['role'] == 'system' %}
    {% set system = messages[0]['content'] | trim %}
    {% set rest = messages[1:] %}
{% else %}
    {% set system = 'none' %}
    {% set rest = messages %}
{% endif %}
SYSTEM={{ system.upper() }}|{{ system.lower() }}|{{ system.title() }}|{{ system.capitalize() }}
{% for m in rest %}
  {% if m is mapping and m.content is string %}
[{{ loop.index }}/{{ loop.length }}{{ ' last' if loop.last else '' }}] {{ m.role }}: {{ m.content.strip() }}
words={{ m.content.split() | length }} first={{ m.content.split(',')[0] }} rep={{ m.content.replace('a', 'A') }}
{{ 'has-x' if 'x' in m.content else 'no-x' }} {{ m.content.lstrip(' H').rstrip('!. ') }} {{ m.content.startswith('He') }} {{ m.content.endswith(('!', '?')) }}
  {% endif %}
{% endfor %}
{{ tools | tojson }}
{{ tools | tojson(indent=2) }}
{{ tools[0] | tojson(separators=(',', ':'), sort_keys=true) }}
{{ tools[0] | tojson(ensure_ascii=true) }}
{{ tools[1] | tojson(indent='\t') }}
{%- if add_generation_prompt %}{{ eos_token }}{% endif %}
"""

GENERIC_CASES = [
    dict(template=GENERIC_TEMPLATE, bos_token="<s>", eos_token="</s>", add_generation_prompt=True,
         messages=[{"role": "system", "content": "  be nice, always  "}, {"role": "user", "content": "Hello, max!"},
                   {"role": "assistant", "content": "  Have a great day.  "}],
         tools=[{"name": "f", "args": {"x": 1, "y": [True, False, None], "z": "ü\n\u2028\"", "w": -0.5}},
                {"n": 3, "f": 0.1, "g": 1e20, "h": 2.5e-07, "i": 100.0, "big": 12345678901234567890, "e": [], "d": {}}]),
]


def main():
    config = json.load(open(sys.argv[1], encoding="utf-8"))
    template = config["chat_template"]
    out = sys.stdout
    for case in QWEN3_CASES:
        kwargs = dict(case)
        kwargs.setdefault("tools", None)
        rendered = render(template, bos_token=config.get("bos_token"), eos_token=config.get("eos_token"), **kwargs)
        out.write(json.dumps({"template": "qwen3", **case, "rendered": rendered}, ensure_ascii=False) + "\n")
    for case in GENERIC_CASES:
        kwargs = {k: v for k, v in case.items() if k != "template"}
        rendered = render(case["template"], **kwargs)
        out.write(json.dumps({**case, "rendered": rendered}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
