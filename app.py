"""Start the web app: ``python app.py [--host H] [--port P]`` (settings: see ``--help``)."""

from __future__ import annotations

import argparse
import os
import sys

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"


def main(argv: list[str] | None = None) -> int:
    from assistant.errors import AssistantError
    from assistant.settings import describe

    parser = argparse.ArgumentParser(
        prog="python app.py",
        description="政策问答助手网页版：在本机启动 Gradio 应用（默认 http://127.0.0.1:7860）。",
        epilog="环境变量（命令行参数优先）：\n" + describe(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", help="监听地址（默认 127.0.0.1；其他地址须设置 POLICYQA_AUTH）")
    parser.add_argument("--port", type=int, help="端口（默认 7860）")
    args = parser.parse_args(argv)
    try:
        from assistant.settings import Settings

        settings = Settings.from_env(host=args.host, port=args.port)
        from assistant.ui import launch

        launch(settings)
    except AssistantError as error:
        print(f"无法启动：{error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
