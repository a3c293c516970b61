/** An app that starts one technique run with `@flora-ai/flora`: the bundle-size benchmark's entry. */
import Flora from "@flora-ai/flora"

const client = new Flora({ apiKey: process.env.FLORA_API_KEY ?? "" })

client.runs.startTechnique({ technique_id: "tech_demo", workspace_id: "ws_demo", inputs: { prompt: "x" } })
  .then((run) => console.log(run.run_id))
