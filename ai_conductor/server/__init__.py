"""The MCP server and the HTTP API: drive the conductor from AI coding tools and scripts."""
