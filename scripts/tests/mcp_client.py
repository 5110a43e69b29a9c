#!/usr/bin/env python3
"""MCP client check for `strata mcp` (run by Tests/StrataTests/Inspect/MCPTests.swift).

Starts `STRATA mcp --state STATE` over stdio with the official Python SDK (PyPI `mcp`), lists the tools,
calls each one, and checks the answers against STATE/topics.json and against `strata search --json`
(itself tested against a brute-force cosine ranking). A bad argument must come back as a tool error
(isError), not a crash: the session must keep working afterwards. Prints one line per check and
exits 1 if any failed.
"""
import asyncio
import json
import os
import subprocess
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

strata, state = sys.argv[1], sys.argv[2]
doc = json.load(open(f"{state}/topics.json"))
topics = {t["id"]: t for t in doc["topics"]}
failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (f" — {detail}" if detail and not ok else ""))
    if not ok:
        failures.append(name)


def failed(result):
    """The result's isError flag (is_error in mcp ≥ 2)."""
    return bool(getattr(result, "is_error", getattr(result, "isError", False)))


def payload(result):
    return json.loads(result.content[0].text)


async def main():
    # The SDK starts servers with a reduced environment; pass on where the model lives (as a desktop
    # client's config would), or a STRATA_HOME elsewhere than the default leaves the server without it.
    env = {k: v for k, v in os.environ.items() if k in ("STRATA_HOME", "HOME", "PATH", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    params = StdioServerParameters(command=strata, args=["mcp", "--state", state], env=env)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            check("the server gives instructions", "list_topics" in (init.instructions or ""), init.instructions)
            listed = await session.list_tools()
            names = sorted(t.name for t in listed.tools)
            check("lists the five tools", names == ["assign_text", "documents_by_topic", "get_topic", "list_topics", "search"], names)
            schemas = {t.name: getattr(t, "output_schema", getattr(t, "outputSchema", None)) for t in listed.tools}
            check("every tool declares an output schema", all(s and s.get("type") == "object" for s in schemas.values()), schemas)

            r = await session.call_tool("list_topics", {})
            got = payload(r)
            check("list_topics matches topics.json",
                  not failed(r) and sorted((t["id"], t["label"], t["size"]) for t in got)
                  == sorted((t["id"], t["label"], t["size"]) for t in doc["topics"]))

            some = doc["topics"][1]
            r = await session.call_tool("get_topic", {"topic": some["id"]})
            g = payload(r)
            check("get_topic by id: keywords and representatives",
                  not failed(r) and g["keywords"] == some["keywords"]
                  and [x["id"] for x in g["representatives"]] == some["representative_ids"] and "lineage" in g)
            r = await session.call_tool("get_topic", {"topic": some["label"]})
            check("get_topic by label", not failed(r) and payload(r)["id"] == some["id"])

            r = await session.call_tool("documents_by_topic", {"topic": some["id"], "limit": 7, "offset": 3})
            p = payload(r)
            check("documents_by_topic pages the members in order",
                  not failed(r) and p["total"] == len(some["document_ids"])
                  and [d["id"] for d in p["documents"]] == some["document_ids"][3:10])

            query, k = "animals that live in water", 6
            r = await session.call_tool("search", {"query": query, "topics": [some["id"]], "k": k})
            hits = payload(r)
            ref = json.loads(subprocess.run([strata, "search", query, "--topic", str(some["id"]), "-k", str(k),
                                             "--state", state, "--json"], check=True, capture_output=True, text=True).stdout)
            check("search equals `strata search` (topic filter, ranking, scores)",
                  not failed(r) and [h["id"] for h in hits] == [h["id"] for h in ref]
                  and all(abs(a["score"] - b["score"]) < 1e-6 for a, b in zip(hits, ref))
                  and len(hits) == min(k, len(some["document_ids"]))
                  and all(h["topic_id"] == some["id"] for h in hits))
            r = await session.call_tool("search", {"query": query, "k": 3})
            check("search without a filter", not failed(r) and len(payload(r)) == 3)

            text = doc["topics"][0]["label"] + ". " + " ".join(doc["topics"][0]["keywords"][:5])
            r = await session.call_tool("assign_text", {"text": text})
            a = payload(r)
            ref = json.loads(subprocess.run([strata, "assign", "--text", text, "--state", state, "--json"],
                                            check=True, capture_output=True, text=True).stdout)[0]
            check("assign_text equals `strata assign --text` (topic, score, runner-up)",
                  not failed(r) and a["topic_id"] == ref["topic_id"] and abs(a["score"] - ref["score"]) < 1e-6
                  and a["runner_up_id"] == ref["runner_up_id"] and a["runner_up_id"] != a["nearest_id"])
            structured = getattr(r, "structured_content", getattr(r, "structuredContent", None))
            check("assign_text returns structured content", structured is not None and structured.get("topic_id") == a["topic_id"])
            r = await session.call_tool("documents_by_topic", {"topic": -1})
            p = payload(r)
            check("topic -1 (no topic) is queryable", not failed(r) and p["topic_id"] == -1 and p["total"] >= 0)

            bad = [("get_topic", {"topic": 99999}), ("get_topic", {}), ("search", {"query": ""}),
                   ("search", {"query": "x", "k": 0}), ("search", {"query": "x", "topics": "nope"}),
                   ("documents_by_topic", {"topic": some["id"], "limit": "many"}), ("list_topics", {"extra": 1}),
                   ("assign_text", {"text": "   "}), ("no_such_tool", {})]
            for name, args in bad:
                try:
                    r = await session.call_tool(name, args)
                    check(f"bad call {name}({args}) is a tool error", failed(r) and r.content[0].text.startswith("error:"),
                          r.content[0].text[:120] if r.content else "no content")
                except Exception as e:  # a protocol-level error is acceptable for an unknown tool only
                    check(f"bad call {name}({args}) is a tool error", False, repr(e)[:160])
            r = await session.call_tool("list_topics", {})
            check("the server still answers after bad calls", not failed(r) and len(payload(r)) == len(topics))


asyncio.run(main())
print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
