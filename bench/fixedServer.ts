/**
 * A loopback HTTP server with fixed answers, for measuring what a client costs and nothing else:
 *
 * - `POST /api/v1/runs/technique` answers 201 with one start-run body;
 * - `GET /api/v1/runs/:id` answers 200 with one completed run.
 *
 * It reads every request body to the end before answering and keeps connections alive. Started with
 * `fork`, it sends its port to the parent over IPC; run directly, it prints it.
 */
import * as Http from "node:http"

const server = Http.createServer({ keepAliveTimeout: 60_000 }, (request, response) => {
  request.on("data", () => {})
  request.on("end", () => {
    const url = request.url ?? ""
    if (request.method === "POST" && url === "/api/v1/runs/technique") return send(response, 201, started)
    if (request.method === "GET" && url.startsWith("/api/v1/runs/run_")) return send(response, 200, completed)
    return send(response, 404, notFound)
  })
})

let requestCount = 0

const send = (response: Http.ServerResponse, status: number, body: Buffer) => {
  requestCount += 1
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": body.byteLength,
    "request-id": `req_bench_${requestCount}`
  })
  response.end(body)
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value))

let started = json({})
let completed = json({})
const notFound = json({ error: { code: "not_found", message: "no such route" } })

server.listen(0, "127.0.0.1", () => {
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  const baseUrl = `http://127.0.0.1:${port}/api/v1`
  started = json({
    run_id: "run_bench0001",
    type: "technique",
    estimated_seconds: 3,
    charged_cost: 0.25,
    poll_url: `${baseUrl}/runs/run_bench0001`,
    project_id: null,
    model: null,
    technique: { technique_id: "tech_demo", name: "Demo" },
    action: null
  })
  completed = json({
    run_id: "run_bench0001",
    type: "technique",
    status: "completed",
    progress: 100,
    created_at: 1767225600,
    started_at: 1767225601,
    completed_at: 1767225604,
    charged_cost: 0.25,
    error_code: null,
    error_message: null,
    outputs: [{ output_id: "out_bench0001", type: "imageUrl", url: "https://media.example.invalid/out.png" }],
    poll_url: `${baseUrl}/runs/run_bench0001`
  })
  if (process.send !== undefined) process.send({ baseUrl })
  else console.log(baseUrl)
})

process.on("disconnect", () => process.exit(0))
