import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

// Benchmarks print figures; they assert only that the measurement happened. `make bench` runs them.
export default defineConfig({ ...base, testDir: "./bench", testMatch: "**/*.bench.ts", timeout: 120_000 });
