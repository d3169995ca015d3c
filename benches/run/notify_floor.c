/*
 * The least a seccomp user-notification monitor can cost: runs a command
 * under a filter that sends its opens, execs and connects to this
 * process, which answers each one "continue" at once and reads nothing.
 *
 *     notify_floor CMD [ARGS...]
 *
 * cordon's monitor makes the same round trip per call, then reads the
 * call's arguments and records it; the difference between this and a
 * bare run is what the kernel's notification alone costs, a floor that
 * no monitor of this kind goes below. Built and run by strace.py; not
 * part of cordon.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1
#endif

/* The calls cordon's monitor always watches that a workload makes most. */
static const int watched[] = {
    SYS_open, SYS_openat, SYS_openat2, SYS_creat,
    SYS_execve, SYS_execveat, SYS_connect,
};
#define WATCHED (sizeof watched / sizeof watched[0])

static int install_filter(void)
{
    struct sock_filter code[4 + WATCHED + 2];
    size_t n = 0;
    code[n++] = (struct sock_filter)BPF_STMT(
        BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    code[n++] = (struct sock_filter)BPF_JUMP(
        BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    code[n++] = (struct sock_filter)BPF_STMT(
        BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    code[n++] = (struct sock_filter)BPF_STMT(
        BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (size_t i = 0; i < WATCHED; i++) {
        /* A match jumps past the remaining checks and the "allow". */
        unsigned char skip = (unsigned char)(WATCHED - i);
        code[n++] = (struct sock_filter)BPF_JUMP(
            BPF_JMP | BPF_JEQ | BPF_K, (unsigned)watched[i], skip, 0);
    }
    code[n++] = (struct sock_filter)BPF_STMT(
        BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    code[n++] = (struct sock_filter)BPF_STMT(
        BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
    struct sock_fprog program = { .len = (unsigned short)n, .filter = code };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                        SECCOMP_FILTER_FLAG_NEW_LISTENER, &program);
}

static int send_fd(int socket, int fd)
{
    char byte = 0;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    char space[CMSG_SPACE(sizeof(int))];
    memset(space, 0, sizeof space);
    struct msghdr message = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = space, .msg_controllen = sizeof space,
    };
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(header), &fd, sizeof(int));
    return sendmsg(socket, &message, 0) == 1 ? 0 : -1;
}

static int receive_fd(int socket)
{
    char byte;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    char space[CMSG_SPACE(sizeof(int))];
    struct msghdr message = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = space, .msg_controllen = sizeof space,
    };
    if (recvmsg(socket, &message, 0) != 1)
        return -1;
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    if (header == NULL || header->cmsg_type != SCM_RIGHTS)
        return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(header), sizeof(int));
    return fd;
}

/* Whether no process uses the filter any more. */
static int hung_up(int listener)
{
    struct pollfd ready = { .fd = listener, .events = POLLIN };
    return poll(&ready, 1, 0) > 0
        && (ready.revents & (POLLHUP | POLLERR | POLLNVAL));
}

/* Answers every notification "continue" until no process uses the
 * filter any more. With synchronous wake-ups (Linux 6.6) a waiting
 * receive ends when the last user goes, so the loop blocks in the
 * receive itself, as cordon's monitor does; older kernels need a poll
 * before each receive. */
static void answer(int listener)
{
    struct seccomp_notif request;
    struct seccomp_notif_resp response;
    int blocking = ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
                         SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, 0) == 0;
    for (;;) {
        if (!blocking) {
            struct pollfd ready = { .fd = listener, .events = POLLIN };
            if (poll(&ready, 1, -1) < 0 && errno != EINTR)
                return;
            if (ready.revents & (POLLHUP | POLLERR | POLLNVAL))
                return;
        }
        memset(&request, 0, sizeof request);
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &request) != 0) {
            if (errno != EINTR && errno != ENOENT && !blocking)
                return;
            if (blocking && hung_up(listener))
                return;
            continue;
        }
        memset(&response, 0, sizeof response);
        response.id = request.id;
        response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &response);
    }
}

int main(int argc, char **argv)
{
    int pair[2];
    if (argc < 2) {
        fprintf(stderr, "usage: notify_floor CMD [ARGS...]\n");
        return 2;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0)
        return 125;
    pid_t child = fork();
    if (child < 0)
        return 125;
    if (child == 0) {
        close(pair[0]);
        int listener = install_filter();
        if (listener < 0 || send_fd(pair[1], listener) != 0)
            _exit(125);
        close(listener);
        close(pair[1]);
        execvp(argv[1], argv + 1);
        _exit(127);
    }
    close(pair[1]);
    int listener = receive_fd(pair[0]);
    close(pair[0]);
    if (listener >= 0) {
        answer(listener);
        close(listener);
    }
    int status;
    if (waitpid(child, &status, 0) != child)
        return 125;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
