// The Vercel AI SDK's default OpenAI provider (it speaks the Responses API) against lowart.
// Usage: node vercel.mjs generate|stream|tools MODEL PROMPT; env LOWART_BASE_URL, LOWART_API_KEY.
// Prints one JSON line with what the SDK returned.
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, stepCountIs, streamText, tool } from "ai";
import { z } from "zod";

const [mode, modelName, prompt] = process.argv.slice(2);
const provider = createOpenAI({
  baseURL: process.env.LOWART_BASE_URL,
  apiKey: process.env.LOWART_API_KEY,
});
const model = provider(modelName);

const tools = {
  get_weather: tool({
    description: "Weather for a city",
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => `22 C and sunny in ${city}`,
  }),
};

async function main() {
  if (mode === "generate") {
    const result = await generateText({ model, prompt, maxRetries: 0 });
    return { text: result.text, usage: result.usage, finishReason: result.finishReason };
  }
  if (mode === "stream") {
    const result = streamText({ model, prompt, maxRetries: 0 });
    const parts = [];
    for await (const part of result.textStream) parts.push(part);
    return { parts, text: await result.text, usage: await result.usage };
  }
  if (mode === "tools") {
    const result = await generateText({
      model,
      prompt,
      tools,
      stopWhen: stepCountIs(3),
      maxRetries: 0,
    });
    return {
      text: result.text,
      steps: result.steps.map((step) => ({
        toolCalls: step.toolCalls.map((c) => ({ name: c.toolName, input: c.input })),
        toolResults: step.toolResults.map((r) => r.output),
        finishReason: step.finishReason,
      })),
    };
  }
  throw new Error(`unknown mode ${mode}`);
}

main().then(
  (result) => console.log(JSON.stringify(result)),
  (error) => {
    console.error(String(error?.stack || error));
    process.exit(1);
  },
);
