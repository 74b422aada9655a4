/**
 * Streams a chat completion from lowart over gRPC and prints it as it arrives.
 *
 *   LOWART_API_KEY=la-... node dist/examples/stream.js "Tell me a joke"
 *   LOWART_TARGET=unix:///path/to/lowart-grpc.sock LOWART_API_KEY=la-... node dist/examples/stream.js
 *
 * LOWART_TARGET defaults to 127.0.0.1:50051 and LOWART_MODEL to `mock`.
 */
import { LowartClient, deltaText } from "../src/index.js";

async function main(): Promise<number> {
  const target = process.env.LOWART_TARGET ?? "127.0.0.1:50051";
  const apiKey = process.env.LOWART_API_KEY;
  if (!apiKey) {
    console.error("set LOWART_API_KEY");
    return 2;
  }
  const model = process.env.LOWART_MODEL ?? "mock";
  const prompt = process.argv.slice(2).join(" ") || "Hello from TypeScript";
  const client = new LowartClient(target, { apiKey, timeoutSeconds: 60 });
  try {
    const models = await client.listModels();
    console.log(`models: ${models.map((m) => m.id).join(", ")}`);
    for await (const message of client.stream(model, [
      { role: "ROLE_SYSTEM", content: "You are terse." },
      prompt,
    ])) {
      process.stdout.write(deltaText(message));
      if (message.usage) {
        const { promptTokens, completionTokens, totalTokens } = message.usage;
        console.log(`\nusage: prompt=${promptTokens} completion=${completionTokens} total=${totalTokens}`);
      }
    }
    return 0;
  } catch (error) {
    const failure = error as { code?: number; details?: string; message?: string };
    console.error(`error: code=${failure.code} ${failure.details ?? failure.message}`);
    return 1;
  } finally {
    client.close();
  }
}

main().then((code) => process.exit(code));
