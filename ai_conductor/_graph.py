"""Small graph helpers for task DAGs: cycle finding and topological order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    """Return one cycle as a path that ends where it starts (``a -> b -> a``), or None.

    ``graph`` maps each node to the nodes it depends on. Iterative DFS, so deep chains are fine.
    """
    white, grey, black = 0, 1, 2
    color = dict.fromkeys(graph, white)
    for root in graph:
        if color[root] != white:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = [root]
        color[root] = grey
        while stack:
            node, i = stack[-1]
            deps = graph.get(node, ())
            if i < len(deps):
                stack[-1] = (node, i + 1)
                dep = deps[i]
                if color.get(dep, black) == grey:
                    return [*path[path.index(dep) :], dep]
                if color.get(dep, black) == white:
                    color[dep] = grey
                    stack.append((dep, 0))
                    path.append(dep)
            else:
                color[node] = black
                stack.pop()
                path.pop()
    return None


def topological_order(graph: Mapping[str, Sequence[str]]) -> list[str]:
    """Nodes ordered so that every node comes after its dependencies (stable for ties)."""
    order: list[str] = []
    done: set[str] = set()
    for root in graph:
        stack = [(root, iter(graph[root]))]
        if root in done:
            continue
        visiting = {root}
        while stack:
            node, deps = stack[-1]
            dep = next(deps, None)
            if dep is None:
                stack.pop()
                visiting.discard(node)
                if node not in done:
                    done.add(node)
                    order.append(node)
            elif dep not in done and dep not in visiting and dep in graph:
                visiting.add(dep)
                stack.append((dep, iter(graph[dep])))
    return order
