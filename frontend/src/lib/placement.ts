// Where new nodes go: every node has one fixed size, so a free spot is a rectangle that
// overlaps no other node's. Used by the palette's "+", a port's "+" (to the right of its
// node) and paste (at the cursor, or offset from the copied nodes without stacking).
import type { DefNode, WfNode } from '../types'

export const NODE_WIDTH = 200
export const NODE_HEIGHT = 64
export const GAP_X = 80
export const GAP_Y = 32

export interface Point { x: number; y: number }

export function overlaps(a: Point, b: Point): boolean {
  return Math.abs(a.x - b.x) < NODE_WIDTH + 8 && Math.abs(a.y - b.y) < NODE_HEIGHT + 8
}

/** The first spot at or below `wanted` (then further right) that overlaps no node. */
export function freeSpot(wanted: Point, nodes: Pick<WfNode, 'position'>[]): Point {
  for (let col = 0; col < 20; col++) {
    for (let row = 0; row < 20; row++) {
      const p = { x: wanted.x + col * (NODE_WIDTH + GAP_X), y: wanted.y + row * (NODE_HEIGHT + GAP_Y) }
      if (!nodes.some((n) => overlaps(n.position, p))) return p
    }
  }
  return wanted
}

/** The spot for a node connected after `source`: to its right, lower when that is taken. */
export function spotRightOf(source: Pick<WfNode, 'position'>, nodes: Pick<WfNode, 'position'>[]): Point {
  return freeSpot({ x: source.position.x + NODE_WIDTH + GAP_X, y: source.position.y }, nodes)
}

/** Positions for pasted nodes: at `cursor` (their top-left corner there) when given, else
 * offset from where they were copied, moved on until none lands on an existing node. */
export function pastePositions(pasted: Pick<DefNode, 'position'>[], existing: Pick<WfNode, 'position'>[], cursor: Point | null): Point[] {
  const raw = pasted.map((n, i) => ({
    x: typeof n.position?.x === 'number' ? n.position.x : i * (NODE_WIDTH + GAP_X),
    y: typeof n.position?.y === 'number' ? n.position.y : 0,
  }))
  if (!raw.length) return []
  const minX = Math.min(...raw.map((p) => p.x))
  const minY = Math.min(...raw.map((p) => p.y))
  let dx: number
  let dy: number
  if (cursor) {
    dx = cursor.x - minX
    dy = cursor.y - minY
  } else {
    dx = 40
    dy = 40
  }
  // Slide the whole group diagonally until no pasted node sits on an existing one.
  for (let step = 0; step < 200; step++) {
    const moved = raw.map((p) => ({ x: p.x + dx, y: p.y + dy }))
    if (!moved.some((p) => existing.some((n) => overlaps(n.position, p)))) return moved
    dx += 40
    dy += 40
  }
  return raw.map((p) => ({ x: p.x + dx, y: p.y + dy }))
}
