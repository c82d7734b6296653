"""The server is down: steps go to the spool and reach the real server later, none lost, in order."""

from __future__ import annotations

import os
import subprocess
import textwrap
import unittest
from pathlib import Path

import support


class OutageTests(support.TempDirTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.port = support.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.spool = Path(self.dir, "spool")

    def server(self) -> support.Server:
        server = support.Server(self.dir, port=self.port).start()
        self.addCleanup(server.stop)
        return server

    def steps_on_server(self, server: support.Server, run_id: str) -> list:
        return [row["step"] for row in server.get(f"/api/v1/runs/{run_id}/metrics?limit=10000")["steps"]]

    def test_steps_logged_while_the_server_is_down_arrive_when_it_is_back(self) -> None:
        client = support.start_client(textwrap.dedent("""
            import os, time
            import rlwatch_client as rlwatch
            monitor = rlwatch.attach(run_id="outage", spool_dir="spool", max_backoff=0.5)
            for step in range(200):
                rlwatch.log_step(step, entropy=2.0, loss=0.3, rewards=[1.0, 0.0])
            open("phase-1-done", "w").close()
            while not os.path.exists("server-up"):
                time.sleep(0.05)
            for step in range(200, 300):
                rlwatch.log_step(step, entropy=2.0, loss=0.3, rewards=[1.0, 0.0])
            print("delivered", rlwatch.flush(60))
            print("spool left", os.path.exists(monitor.spool_path))
        """), cwd=self.dir, env={"RLWATCH_URL": self.url})
        try:
            support.wait_for(lambda: Path(self.dir, "phase-1-done").exists() or client.poll() is not None,
                             120, "the client to log its first 200 steps")
            support.wait_for(lambda: self.spooled("outage") == 200, 30, "200 steps in the spool")
            server = self.server()
            Path(self.dir, "server-up").touch()
            stdout, stderr = client.communicate(timeout=180)
        finally:
            if client.poll() is None:
                client.kill()
                client.communicate()
        self.assertEqual(client.returncode, 0, stderr)
        self.assertIn("delivered True", stdout, stderr)
        self.assertIn("spool left False", stdout)
        self.assertIn("cannot reach the server", stderr)
        self.assertEqual(self.steps_on_server(server, "outage"), list(range(300)))
        server.stop()
        self.assertEqual(support.diagnose("outage", server.log_dir)["total_steps"], 300)

    def test_a_spool_left_at_exit_is_sent_first_by_the_next_process(self) -> None:
        first = support.run_client(self.client_code("resume-me", range(0, 100)), cwd=self.dir, env={"RLWATCH_URL": self.url})
        self.assertEqual(first.returncode, 0, first.stderr)
        spool_file = self.spool / "resume-me.jsonl"
        self.assertIn(f"rlwatch replay {spool_file} --run-id resume-me", first.stderr)
        self.assertEqual(self.spooled("resume-me"), 100)

        server = self.server()
        second = support.run_client(self.client_code("resume-me", range(100, 150)), cwd=self.dir,
                                    env={"RLWATCH_URL": server.url})
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertIn("found 100 unsent steps of run resume-me", second.stderr)
        self.assertFalse(spool_file.exists())
        self.assertEqual(self.steps_on_server(server, "resume-me"), list(range(150)))

    def test_the_printed_replay_command_ingests_a_leftover_spool(self) -> None:
        result = support.run_client(self.client_code("replay-me", range(60)), cwd=self.dir, env={"RLWATCH_URL": self.url})
        self.assertEqual(result.returncode, 0, result.stderr)
        log_dir = os.path.join(self.dir, "replayed")
        replay = subprocess.run([support.rlwatch_binary(), "replay", str(self.spool / "replay-me.jsonl"),
                                 "--run-id", "replay-me", "--log-dir", log_dir],
                                cwd=self.dir, capture_output=True, text=True, timeout=120)
        self.assertEqual(replay.returncode, 0, replay.stderr)
        self.assertEqual(support.diagnose("replay-me", log_dir)["total_steps"], 60)

    def client_code(self, run_id: str, steps: range) -> str:
        return textwrap.dedent(f"""
            import rlwatch_client as rlwatch
            rlwatch.attach(run_id={run_id!r}, spool_dir="spool")
            for step in range({steps.start}, {steps.stop}):
                rlwatch.log_step(step, entropy=2.0, kl=0.01, loss=float("nan") if step == 5 else 0.3)
        """)

    def spooled(self, run_id: str) -> int:
        path = self.spool / f"{run_id}.jsonl"
        return len(support.read_jsonl(str(path))) if path.exists() else 0


if __name__ == "__main__":
    unittest.main()
