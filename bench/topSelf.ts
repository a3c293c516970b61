/**
 * Prints the functions with the most self time in a V8 `.cpuprofile` (from `node --cpu-prof`), the packages
 * they belong to, and the functions whose source matches `filter` with the most total time (self time plus
 * what they call; a recursive function counts once).
 *
 *   npx tsx bench/topSelf.ts bench/.scratch/prof/CPU.*.cpuprofile [count] [filter]
 */
import * as Fs from "node:fs"

interface Node {
  readonly id: number
  readonly children?: ReadonlyArray<number>
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}

interface Profile {
  readonly nodes: ReadonlyArray<Node>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const [file, countArg, filter = "src/"] = process.argv.slice(2)
if (file === undefined) throw new Error("usage: topSelf.ts <file.cpuprofile> [count] [filter]")
const profile = JSON.parse(Fs.readFileSync(file, "utf8")) as Profile
const count = Number(countArg ?? 30)

const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const selfUs = new Map<number, number>()
profile.samples.forEach((id, index) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)))
const total = [...selfUs.values()].reduce((a, b) => a + b, 0)

const shorten = (url: string) =>
  url.replace(/^file:\/\//, "").replace(/.*\/node_modules\//, "").replace(/.*\/work\/main\//, "") || "(native)"

const group = (key: (node: Node) => string) => {
  const sums = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const k = key(byId.get(id)!)
    sums.set(k, (sums.get(k) ?? 0) + us)
  }
  return [...sums].sort((a, b) => b[1] - a[1])
}

const print = (title: string, rows: ReadonlyArray<[string, number]>) => {
  console.log(`\n${title} (total ${(total / 1000).toFixed(0)} ms)`)
  for (const [name, us] of rows.slice(0, count)) {
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`)
  }
}

print(
  "self time by function",
  group((n) => `${n.callFrame.functionName || "(anonymous)"} ${shorten(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`)
)
print(
  "self time by package",
  group((n) => {
    const url = shorten(n.callFrame.url)
    const match = /^(@[^/]+\/[^/]+|[^/@(][^/]*)\//.exec(url)
    return match?.[1] ?? url
  })
)

const keyOf = (n: Node) =>
  `${n.callFrame.functionName || "(anonymous)"} ${shorten(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`
const totals = new Map<string, number>()
const walk = (id: number, onStack: ReadonlySet<string>): number => {
  const node = byId.get(id)!
  const key = keyOf(node)
  const inner = onStack.has(key) ? onStack : new Set([...onStack, key])
  const sum = (selfUs.get(id) ?? 0) + (node.children ?? []).reduce((acc, child) => acc + walk(child, inner), 0)
  if (!onStack.has(key)) totals.set(key, (totals.get(key) ?? 0) + sum)
  return sum
}
walk(profile.nodes[0]!.id, new Set())
print(
  `total time of functions in ${filter}`,
  [...totals].filter(([key]) => key.includes(filter)).sort((a, b) => b[1] - a[1])
)
