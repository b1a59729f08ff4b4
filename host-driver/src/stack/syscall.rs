//! A scripted process on the application CPU (what packetdrill's system-call thread is): one TCP
//! system call at a time, submitted for a cycle and run once the CPU is free there, its cost charged
//! by the call itself. A blocking call that would sleep sleeps on its socket and is retried when
//! woken (paying `wakeup_ns`), as `sk_wait_event` does; its completion records the cycle it returned.

use std::net::SocketAddrV4;

use super::socket::SocketError;
use super::tcp::sock::TcpSockId;
use super::tcp::tcp_calls::{Shutdown, TcpInfo, TcpSendFlags, TcpSockOpt};
use super::Stack;
use crate::ctx::Ctx;
use crate::time::Cycle;

/// The system calls a script can make on a TCP socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SysCall {
    Socket,
    Bind(TcpSockId, SocketAddrV4),
    Listen(TcpSockId, u32),
    Accept(TcpSockId),
    Connect(TcpSockId, SocketAddrV4),
    /// `write`/`send`/`sendmsg` of this many bytes.
    Send(TcpSockId, usize, TcpSendFlags),
    /// `read`/`recv` of up to this many bytes.
    Recv(TcpSockId, usize),
    Shutdown(TcpSockId, Shutdown),
    Close(TcpSockId),
    SetSockOpt(TcpSockId, TcpSockOpt),
    /// `getsockopt(TCP_MAXSEG)`.
    MaxSeg(TcpSockId),
    /// `getsockopt(SO_SNDBUF)`: `sk_sndbuf`.
    SndBuf(TcpSockId),
    /// `ioctl(SIOCINQ)` and `ioctl(SIOCOUTQ)`.
    InqOutq(TcpSockId),
    /// `getsockopt(TCP_INFO)`.
    Info(TcpSockId),
}

/// What a successful call returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SysRet {
    Sock(TcpSockId),
    Done,
    /// Bytes written or read.
    Bytes(usize),
    /// A socket option's value (`getsockopt`).
    OptValue(u32),
    InqOutq(u32, u32),
    Info(Box<TcpInfo>),
}

/// A call that returned, at the cycle it returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysCompletion {
    pub at: Cycle,
    pub result: Result<SysRet, SocketError>,
}

#[derive(Debug)]
struct PendingCall {
    call: SysCall,
    at: Cycle,
    blocking: bool,
    /// Asleep on this socket until it is woken.
    asleep_on: Option<TcpSockId>,
    /// `connect` sent its SYN; what is left is waiting for the handshake.
    connecting: bool,
    /// Bytes a blocking send has copied so far.
    sent: usize,
}

/// The scripted process: the call under way and the last one that returned.
#[derive(Debug, Default)]
pub struct ScriptProc {
    pending: Option<PendingCall>,
    done: Option<SysCompletion>,
}

impl ScriptProc {
    /// When the process next runs: the call's start, or when its socket woke it.
    pub(super) fn ready_at(&self, stack: &Stack) -> Option<Cycle> {
        let p = self.pending.as_ref()?;
        match p.asleep_on {
            Some(sk) => stack.tcp_woken_at(sk),
            None => Some(p.at),
        }
    }
}

impl Stack {
    /// Queues `call` to start at cycle `at` (`blocking`: the fd has no `O_NONBLOCK`). One call at a
    /// time, as one thread makes them.
    pub fn submit_syscall(&mut self, call: SysCall, at: Cycle, blocking: bool) {
        self.script.pending = Some(PendingCall {
            call,
            at,
            blocking,
            asleep_on: None,
            connecting: false,
            sent: 0,
        });
        self.script.done = None;
    }

    /// The call that returned since the last look, if it has.
    pub fn take_syscall_completion(&mut self) -> Option<SysCompletion> {
        self.script.done.take()
    }

    /// A call is submitted and has not returned.
    pub fn syscall_in_flight(&self) -> bool {
        self.script.pending.is_some()
    }

    /// Runs the scripted call if its time has come: it returns, or sleeps on its socket.
    pub(super) fn run_script_proc(&mut self, ctx: &mut Ctx) {
        if self.script.ready_at(self).is_none_or(|t| t > ctx.now) {
            return;
        }
        let mut p = self.script.pending.take().expect("ready");
        if let Some(sk) = p.asleep_on.take() {
            self.tcp_clear_wakeup(sk);
            ctx.charge(ctx.costs.wakeup_ns);
        }
        let result = self.sys_call_once(ctx, &mut p);
        match result {
            Err(SocketError::WouldBlock { .. } | SocketError::InProgress) if p.blocking => {
                p.asleep_on = sock_of(&p.call);
                self.script.pending = Some(p);
            }
            Err(SocketError::WouldBlock { .. }) if p.sent > 0 => {
                self.script.done = Some(SysCompletion {
                    at: ctx.now,
                    result: Ok(SysRet::Bytes(p.sent)),
                });
            }
            // A blocking write returns only once everything is copied.
            Ok(SysRet::Bytes(_))
                if p.blocking && matches!(p.call, SysCall::Send(_, len, _) if p.sent < len) =>
            {
                p.asleep_on = sock_of(&p.call);
                self.script.pending = Some(p);
            }
            result => {
                self.script.done = Some(SysCompletion {
                    at: ctx.now,
                    result,
                })
            }
        }
    }

    fn sys_call_once(&mut self, ctx: &mut Ctx, p: &mut PendingCall) -> Result<SysRet, SocketError> {
        if !matches!(p.call, SysCall::Send(..) | SysCall::Recv(..)) {
            // Send and receive charge their own entry.
            ctx.charge(ctx.costs.sendto_syscall_ns);
        }
        match p.call.clone() {
            SysCall::Socket => Ok(SysRet::Sock(self.tcp_socket(ctx))),
            SysCall::Bind(sk, a) => self.tcp_bind(sk, a).map(|()| SysRet::Done),
            SysCall::Listen(sk, b) => self.tcp_listen(sk, b).map(|()| SysRet::Done),
            SysCall::Accept(sk) => self.tcp_accept(sk).map(SysRet::Sock),
            SysCall::Connect(sk, a) if !p.connecting => {
                self.tcp_connect_call(ctx, sk, a)?;
                p.connecting = true;
                Err(SocketError::InProgress)
            }
            SysCall::Connect(sk, _) => self.tcp_connect_result(sk).map(|()| SysRet::Done),
            SysCall::Send(sk, len, flags) => {
                let data = vec![0u8; len - p.sent];
                match self.tcp_sendmsg(ctx, sk, &data, flags) {
                    Ok(n) => {
                        p.sent += n;
                        Ok(SysRet::Bytes(p.sent))
                    }
                    Err(e) => Err(e),
                }
            }
            SysCall::Recv(sk, max) => self
                .tcp_recvmsg(ctx, sk, max)
                .map(|d| SysRet::Bytes(d.len())),
            SysCall::Shutdown(sk, how) => self.tcp_shutdown(ctx, sk, how).map(|()| SysRet::Done),
            SysCall::Close(sk) => self.tcp_close(ctx, sk).map(|()| SysRet::Done),
            SysCall::SetSockOpt(sk, opt) => {
                self.tcp_setsockopt(ctx, sk, opt).map(|()| SysRet::Done)
            }
            SysCall::MaxSeg(sk) => self.tcp_maxseg(sk).map(SysRet::OptValue),
            SysCall::SndBuf(sk) => self
                .tcp
                .get(sk)
                .map(|tp| SysRet::OptValue(tp.sndbuf as u32))
                .ok_or(SocketError::BadFd),
            SysCall::InqOutq(sk) => self
                .tcp_ioctl_inq_outq(sk)
                .map(|(i, o)| SysRet::InqOutq(i, o)),
            SysCall::Info(sk) => self.tcp_info(ctx, sk).map(|i| SysRet::Info(Box::new(i))),
        }
    }
}

/// The socket a call sleeps on.
fn sock_of(call: &SysCall) -> Option<TcpSockId> {
    match *call {
        SysCall::Socket => None,
        SysCall::Bind(sk, _)
        | SysCall::Listen(sk, _)
        | SysCall::Accept(sk)
        | SysCall::Connect(sk, _)
        | SysCall::Send(sk, ..)
        | SysCall::Recv(sk, _)
        | SysCall::Shutdown(sk, _)
        | SysCall::Close(sk)
        | SysCall::SetSockOpt(sk, _)
        | SysCall::MaxSeg(sk)
        | SysCall::SndBuf(sk)
        | SysCall::InqOutq(sk)
        | SysCall::Info(sk) => Some(sk),
    }
}
