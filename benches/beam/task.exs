# The BEAM's side of the `task` bench (benches/benches/task.rs): the same work with
# Elixir's Task, so arbor's figures can be set beside the BEAM's from the same machine.
#
#   elixir benches/beam/task.exs                        # 100 000 items per stream
#   ARBOR_BENCH_QUICK=1 elixir benches/beam/task.exs    # 10 000 items, fewer runs
#
# The bench's figures come from 2 schedulers (the machines' 2 cores: the default); pass
# `elixir --erl "+S 2" benches/beam/task.exs` elsewhere. Each scenario runs once untimed
# (code loading, the first scheduler wake-ups), then `runs` times; the median is printed.

defmodule TaskBench do
  @moduledoc false

  def quick?, do: System.get_env("ARBOR_BENCH_QUICK") == "1"

  # Wall time of `fun`, in ns; raises if it returns anything but `expected`, so a run that
  # lost results cannot pass for a fast one.
  def timed(fun, expected) do
    start = System.monotonic_time(:nanosecond)
    result = fun.()
    elapsed = System.monotonic_time(:nanosecond) - start
    if result != expected, do: raise("got #{inspect(result)}, expected #{expected}")
    elapsed
  end

  def median_ns(runs, fun, expected) do
    timed(fun, expected)
    times = Enum.sort(for _ <- 1..runs, do: timed(fun, expected))
    Enum.at(times, div(runs, 2))
  end

  # N tasks one after another, each awaited (5 s default timeout) before the next starts.
  def spawn_await(n) do
    Enum.reduce(1..n, 0, fn x, sum -> sum + Task.await(Task.async(fn -> x end)) end)
  end

  # `items` trivial items through Task.async_stream, drained into a sum.
  def stream(items, limit, ordered) do
    0..(items - 1)
    |> Task.async_stream(fn x -> x * 3 end, max_concurrency: limit, ordered: ordered)
    |> Enum.reduce(0, fn {:ok, y}, sum -> sum + y end)
  end

  def main do
    {tasks, items, runs} = if quick?(), do: {1_000, 10_000, 5}, else: {1_000, 100_000, 9}

    IO.puts(
      "BEAM: OTP #{System.otp_release()}, Elixir #{System.version()}, " <>
        "#{System.schedulers_online()} schedulers; medians of #{runs} runs " <>
        "(#{runs * 5} for task_spawn_await)"
    )

    ns = median_ns(runs * 5, fn -> spawn_await(tasks) end, div(tasks * (tasks + 1), 2))

    IO.puts(
      "task_spawn_await (#{tasks} tasks): #{Float.round(ns / tasks / 1000, 3)} µs/task, " <>
        "#{Float.round(tasks / ns * 1.0e6, 1)} k tasks/s"
    )

    expected = div(3 * items * (items - 1), 2)

    for ordered <- [true, false], limit <- [1, 2, 64] do
      group = if ordered, do: "async_stream", else: "async_stream_unordered"
      ns = median_ns(runs, fn -> stream(items, limit, ordered) end, expected)

      IO.puts(
        "#{group} (#{items} items, max_concurrency #{limit}): " <>
          "#{Float.round(items / ns * 1.0e3, 4)} M items/s, " <>
          "#{Float.round(ns / items / 1000, 3)} µs/item"
      )
    end
  end
end

TaskBench.main()
