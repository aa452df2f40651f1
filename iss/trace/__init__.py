"""Views of a run: the per-core profile, the instruction trace, and timelines
(Perfetto, VCD, activity plot). Nothing here costs anything when it is off: the
native hooks (iss/native/trace.c) are only registered on the engines of a run
that asks for a trace or a timeline.

- `Session(cluster, ViewOptions(...)).run()`: a run with the requested views
  (iss/trace/session.py); `Session.profile` is the profile document.
- `format_profile(profile)`, `write_json(profile, path)`: iss/trace/profile.py
  (the JSON schema is documented there).
- The text trace format and `filter_file` (`iss trace`): iss/trace/insn.py.
- Perfetto / VCD / plot formats: iss/trace/timeline.py.
"""
from .insn import filter_file, parse_cores, parse_window
from .profile import build_profile, format_profile, write_json
from .session import Session, ViewOptions

__all__ = ["Session", "ViewOptions", "build_profile", "format_profile", "write_json", "filter_file",
           "parse_cores", "parse_window"]
