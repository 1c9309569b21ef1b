"""Raw-socket client of tests/integration/clamd_protocol.sh: speaks clamd's
protocol to pefleet-clamd byte by byte, including what a broken or hostile
client sends. Prints TAP-like lines (ok - / not ok - ). Arguments:
  PORT UNIX_SOCKET SMALL_PORT MALICIOUS_FILE CLEAN_FILE CAP_PORT
PORT: a pefleet-clamd with default limits; SMALL_PORT: one started with
--max-connections 3 --budget 1m --stream-max 512k --read-timeout 4
--idle-timeout 3 --max-pending 8; CAP_PORT: one with --max-connections 3 alone."""
import socket
import struct
import sys
import threading
import time

PORT, USOCK, SMALL, MAL, CLEAN = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
CAP = int(sys.argv[6])  # a pefleet-clamd with --max-connections 3 and the default (30 s) timeouts
FAILS = 0


def ok(name, cond, why=""):
    global FAILS
    if cond:
        print("ok - " + name)
    else:
        FAILS += 1
        print("not ok - %s: %s" % (name, why))
    sys.stdout.flush()


def conn(port=PORT, timeout=20):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s


def read_all(s, limit=1 << 20):
    """Everything until the server closes (or the timeout)."""
    out = b""
    try:
        while len(out) < limit:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except socket.timeout:
        out += b"<timeout>"
    except ConnectionResetError:
        out += b"<reset>"
    return out


def ask(data, port=PORT, timeout=20):
    s = conn(port, timeout)
    s.sendall(data)
    r = read_all(s)
    s.close()
    return r


def chunks(payload, size=8192):
    out = b""
    for i in range(0, len(payload), size):
        c = payload[i:i + size]
        out += struct.pack(">I", len(c)) + c
    return out + struct.pack(">I", 0)


def alive(port=PORT):
    try:
        return ask(b"zPING\0", port) == b"PONG\0"
    except OSError:
        return False


mal = open(MAL, "rb").read()
clean = open(CLEAN, "rb").read()

# --- simple commands, both prefixes and the old style ------------------------------
ok("zPING", ask(b"zPING\0") == b"PONG\0")
ok("nPING", ask(b"nPING\n") == b"PONG\n")
ok("old_style_PING", ask(b"PING") == b"PONG\n")
ok("old_style_PING_newline", ask(b"PING\n") == b"PONG\n")
r = ask(b"zVERSION\0")
ok("zVERSION", r.startswith(b"pefleet-clamd 1.0/") and r.endswith(b"\0") and r.count(b"/") == 2, repr(r))
r = ask(b"nVERSIONCOMMANDS\n")
ok("nVERSIONCOMMANDS", b"| COMMANDS: " in r and b" INSTREAM" in r and b" IDSESSION" in r and r.endswith(b"\n"), repr(r))
ok("old_style_VERSIONCOMMANDS_refused", ask(b"VERSIONCOMMANDS") == b"UNKNOWN COMMAND\n")
r = ask(b"zSTATS\0")
ok("zSTATS", r.startswith(b"POOLS: 1") and b"PEFLEET: " in r and r.endswith(b"END\0"), repr(r[:80]))
ok("zRELOAD", ask(b"zRELOAD\0") == b"RELOADING\0")
r = ask(b"zSHUTDOWN\0")
ok("zSHUTDOWN_refused", r.endswith(b" ERROR\0") and b"refused" in r, repr(r))
ok("alive_after_SHUTDOWN", alive())
ok("unknown_command", ask(b"zFOO\0") == b"UNKNOWN COMMAND\0")
ok("missing_argument", ask(b"zSCAN\0") == b"UNKNOWN COMMAND\0")
ok("trailing_garbage", ask(b"zPING now\0") == b"UNKNOWN COMMAND\0")
ok("END_outside_session", ask(b"zEND\0") == b"UNKNOWN COMMAND\0")
r = ask(b"z" + b"A" * 5000)
ok("command_too_long", r == b"Command too long. ERROR\0", repr(r[:60]))
r = ask(b"zSCAN /etc/passwd\0")
ok("SCAN_without_allow_path_refused", r == b"/etc/passwd: Access denied. ERROR\0", repr(r))
r = ask(b"zFILDES\0x")
ok("FILDES_on_tcp_refused", r == b"No file descriptor received. ERROR\0", repr(r))

# --- INSTREAM -------------------------------------------------------------------------
r = ask(b"zINSTREAM\0" + chunks(mal))
ok("instream_malicious_found", r == b"stream: Pefleet.Malicious.ergo486 FOUND\0", repr(r))
r = ask(b"nINSTREAM\n" + chunks(clean, 1000))
ok("instream_clean_ok_newline", r == b"stream: OK\n", repr(r))
r = ask(b"zINSTREAM\0" + chunks(b"plain text, not a PE file\n"))
ok("instream_not_pe_ok", r == b"stream: OK\0", repr(r))
r = ask(b"zINSTREAM\0" + struct.pack(">I", 0))
ok("instream_empty_ok", r == b"stream: OK\0", repr(r))
r = ask(b"INSTREAM" + chunks(mal))
ok("old_style_INSTREAM_refused", r == b"UNKNOWN COMMAND\n", repr(r))
# one chunk past StreamMaxLength (512k on the small daemon)
r = ask(b"zINSTREAM\0" + struct.pack(">I", 600 * 1024), SMALL)
ok("instream_past_limit", r == b"INSTREAM size limit exceeded. ERROR\0", repr(r))
# a stream that adds up past the limit in small chunks
s = conn(SMALL)
s.sendall(b"zINSTREAM\0")
try:
    for _ in range(80):
        s.sendall(struct.pack(">I", 8192) + b"\0" * 8192)
except OSError:
    pass
r = read_all(s)
s.close()
ok("instream_chunks_past_limit", r == b"INSTREAM size limit exceeded. ERROR\0", repr(r))
# a chunk that says more than it sends: read timeout (4 s), then closed
s = conn(SMALL)
s.sendall(b"zINSTREAM\0" + struct.pack(">I", 100000) + b"MZ" * 5)
t0 = time.time()
r = read_all(s)
s.close()
ok("lying_chunk_times_out (%.1f s)" % (time.time() - t0), r == b"COMMAND READ TIMED OUT\0", repr(r))
# a chunk that says less than it sends: the rest is read as the next length
r = ask(b"zINSTREAM\0" + struct.pack(">I", 4) + b"MZ\x90\x00" + b"\xff\xff\xff\xff" * 4, SMALL)
ok("short_chunk_length_refused", r == b"INSTREAM size limit exceeded. ERROR\0", repr(r))
# a client that goes away mid-chunk
s = conn(SMALL)
s.sendall(b"zINSTREAM\0" + struct.pack(">I", 300000) + mal[:1000])
s.close()
time.sleep(0.3)
ok("alive_after_disconnect_mid_stream", alive(SMALL))
r = ask(b"zSTATS\0", SMALL)
ok("budget_released_after_disconnect", b" in-flight 0 " in r, repr(r[r.find(b"PEFLEET"):][:120]))

# --- the byte budget (1 MiB on the small daemon): three streams of 400 KiB at once ----
held = []
for i in range(2):
    s = conn(SMALL)
    s.sendall(b"zINSTREAM\0" + struct.pack(">I", 400 * 1024) + b"\0" * 1000)  # reserved, not complete
    held.append(s)
time.sleep(0.3)
s = conn(SMALL)
s.sendall(b"zINSTREAM\0" + struct.pack(">I", 400 * 1024))
r = read_all(s)
s.close()
ok("budget_refuses_past_it", r.startswith(b"stream: Server busy") and r.endswith(b" ERROR\0"), repr(r))
for s in held:
    s.close()
# the connection cap (3, on a daemon whose timeouts outlast the test): three
# idle connections, then the next is answered and refused
idle = [conn(CAP) for _ in range(3)]
time.sleep(0.3)
r = ask(b"zPING\0", CAP)
ok("connection_cap_refuses", r.startswith(b"ERROR: too many connections"), repr(r))
for s in idle:
    s.close()
time.sleep(0.5)
ok("alive_after_cap", alive(CAP) and alive(SMALL))

# --- IDSESSION ----------------------------------------------------------------------
s = conn()
s.sendall(b"zIDSESSION\0zPING\0zVERSION\0zINSTREAM\0" + chunks(mal) + b"zINSTREAM\0" + chunks(clean) +
          b"nPING\nzEND\0")
r = read_all(s)
s.close()
parts = r.split(b"\0")
ok("session_ping", parts[0] == b"1: PONG", repr(r[:200]))
ok("session_version", parts[1].startswith(b"2: pefleet-clamd 1.0/"), repr(parts[1:2]))
ok("session_instream_found", parts[2] == b"3: stream: Pefleet.Malicious.ergo486 FOUND", repr(parts[2:3]))
ok("session_instream_ok", parts[3] == b"4: stream: OK", repr(parts[3:4]))
ok("session_newline_reply", parts[4:] == [b"5: PONG\n"], repr(parts[4:]))
r = ask(b"zIDSESSION\0zPING\0zCONTSCAN /tmp\0zPING\0")
ok("session_refuses_contscan", r == b"1: PONG\x002: Command invalid inside IDSESSION. ERROR\0", repr(r))
r = ask(b"zIDSESSION\0" + b"zPING\0" * 40, SMALL)
ok("session_too_many_pending", r.endswith(b"Too many pending requests in this session. ERROR\0"), repr(r[-80:]))
# a session left idle is closed after the idle timeout (3 s)
s = conn(SMALL)
s.sendall(b"zIDSESSION\0zPING\0")
t0 = time.time()
r = read_all(s)
s.close()
ok("idle_session_closed (%.1f s)" % (time.time() - t0), r == b"1: PONG\0" and time.time() - t0 < 10, repr(r))

# --- FILDES on the Unix socket ------------------------------------------------------
u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
u.settimeout(20)
u.connect(USOCK)
f = open(MAL, "rb")
u.sendall(b"zFILDES\0")
socket.send_fds(u, [b"\0"], [f.fileno()])
r = read_all(u)
u.close()
ok("fildes_found", r.startswith(b"fd[") and r.endswith(b"]: Pefleet.Malicious.ergo486 FOUND\0"), repr(r))
u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
u.settimeout(20)
u.connect(USOCK)
cf = open(CLEAN, "rb")
socket.send_fds(u, [b"zFILDES\0\0"], [cf.fileno()])
r = read_all(u)
u.close()
ok("fildes_same_packet_ok", r.endswith(b"]: OK\0"), repr(r))
u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
u.settimeout(20)
u.connect(USOCK)
sk = socket.socket()
socket.send_fds(u, [b"zFILDES\0\0"], [sk.fileno()])
r = read_all(u)
u.close()
ok("fildes_not_a_file_error", r.endswith(b"Not a regular file. ERROR\0"), repr(r))

# --- 200 concurrent connections -----------------------------------------------------
results = [None] * 200


def one(i):
    try:
        results[i] = ask(b"zINSTREAM\0" + chunks(mal if i % 2 else clean), timeout=120)
    except OSError as e:
        results[i] = repr(e).encode()


ths = [threading.Thread(target=one, args=(i,)) for i in range(200)]
for t in ths:
    t.start()
for t in ths:
    t.join()
good = sum(1 for i, r in enumerate(results)
           if r == (b"stream: Pefleet.Malicious.ergo486 FOUND\0" if i % 2 else b"stream: OK\0"))
bad = [r for r in results if r not in (b"stream: Pefleet.Malicious.ergo486 FOUND\0", b"stream: OK\0")]
ok("200_concurrent_instreams (%d right)" % good, good == 200, repr(bad[:3]))
ok("alive_after_all", alive() and alive(SMALL))
sys.exit(1 if FAILS else 0)
