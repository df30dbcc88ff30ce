import { describe, expect, it } from "vitest";
import { Mutex } from "../src/mutex";

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe("Mutex", () => {
  it("runs tasks one at a time in call order, even when they await", async () => {
    const mutex = new Mutex();
    const log: string[] = [];
    let running = 0;
    const task = (name: string) => async () => {
      running++;
      expect(running).toBe(1);
      log.push(`start ${name}`);
      await tick();
      log.push(`end ${name}`);
      running--;
      return name;
    };
    const results = await Promise.all(["a", "b", "c"].map((name) => mutex.run(task(name))));
    expect(results).toEqual(["a", "b", "c"]);
    expect(log).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
  });

  it("keeps going after a task fails", async () => {
    const mutex = new Mutex();
    const failed = mutex.run(async () => {
      throw new Error("boom");
    });
    const next = mutex.run(async () => "ok");
    await expect(failed).rejects.toThrow("boom");
    await expect(next).resolves.toBe("ok");
  });
});
