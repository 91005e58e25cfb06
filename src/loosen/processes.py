"""Whether a process is still running, on POSIX and Windows.

``os.kill(pid, 0)`` is the POSIX idiom, but on Windows `os.kill` with any signal other than
Ctrl+C/Ctrl+Break *terminates* the process: there it asks the kernel through ctypes instead.
"""

from __future__ import annotations

import os
import sys

__all__ = ["process_alive"]

if sys.platform == "win32":
    import ctypes
    from ctypes import wintypes

    _PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
    _STILL_ACTIVE = 259
    _ERROR_ACCESS_DENIED = 5

    _kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    _kernel32.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
    _kernel32.OpenProcess.restype = wintypes.HANDLE
    _kernel32.GetExitCodeProcess.argtypes = [wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD)]
    _kernel32.GetExitCodeProcess.restype = wintypes.BOOL
    _kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
    _kernel32.CloseHandle.restype = wintypes.BOOL

    def process_alive(pid: int) -> bool:
        """Whether process ``pid`` exists and has not exited (another user's counts)."""
        if pid <= 0:
            return False
        handle = _kernel32.OpenProcess(_PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
        if not handle:
            # no such process (ERROR_INVALID_PARAMETER), unless it exists but is not ours
            return ctypes.get_last_error() == _ERROR_ACCESS_DENIED
        try:
            code = wintypes.DWORD()
            if not _kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
                return True  # it exists; its state cannot be read
            return code.value == _STILL_ACTIVE
        finally:
            _kernel32.CloseHandle(handle)

else:

    def process_alive(pid: int) -> bool:
        """Whether process ``pid`` exists and has not been reaped (another user's counts)."""
        if pid <= 0:
            return False  # 0 and negative numbers name process groups, not a process
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except OverflowError:
            return False  # no process has such a number
        except PermissionError:
            return True  # another user's process
        return True
