"""Drive an MCP server with the reference Python client (PyPI `mcp`) and print what it saw.

usage: client.py PLAN_JSON
PLAN: {"transport": "http", "url": ..., "token": ...} or
      {"transport": "stdio", "command": ..., "args": [...], "env": {...}},
      plus "client_name" and "steps": [{"op": "list"} | {"op": "call", "name": ..., "arguments": {...}}].
Prints one JSON object: {"server": {...}, "results": [...]} (a step that raised gives {"exception": ...}).
"""

import asyncio
import json
import sys

import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_types import Implementation


async def main(plan):
    if plan["transport"] == "http":
        http = httpx2.AsyncClient(headers={"Authorization": "Bearer " + plan["token"]}, timeout=60)
        server = streamable_http_client(plan["url"], http_client=http)
    else:
        server = StdioServerParameters(command=plan["command"], args=plan["args"], env=plan.get("env"))
    info = Implementation(name=plan["client_name"], version="1.0")
    results = []
    async with Client(server, client_info=info) as client:
        for step in plan["steps"]:
            try:
                if step["op"] == "list":
                    listed = await client.list_tools()
                    results.append({"tools": [t.model_dump(by_alias=True, exclude_none=True) for t in listed.tools]})
                else:
                    called = await client.call_tool(step["name"], step.get("arguments"))
                    results.append(called.model_dump(by_alias=True, exclude_none=True))
            except Exception as error:  # the test reads what went wrong
                results.append({"exception": f"{type(error).__name__}: {error}"})
    print(json.dumps({"results": results}))


asyncio.run(main(json.loads(sys.argv[1])))
