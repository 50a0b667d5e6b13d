package dev.pricer.hub.store;

import dev.pricer.hub.CommitInfo;
import dev.pricer.hub.HubException;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * A commit as stored, in a git-like text form whose sha1 is the commit id:
 * {@code tree <sha256>\nparent <sha>\nauthor <name>\ntime <epoch ms>\n\n<message>} (no parent line for the first).
 */
record CommitObject(String tree, String parent, String author, Instant time, String message) {

    CommitObject {
        if (author.isBlank() || author.chars().anyMatch(c -> c < 0x20)) {
            throw new HubException.Invalid("commit author '" + author + "' must be a non-empty single line");
        }
    }

    byte[] bytes() {
        StringBuilder text = new StringBuilder("tree ").append(tree).append('\n');
        if (parent != null) text.append("parent ").append(parent).append('\n');
        text.append("author ").append(author).append('\n')
            .append("time ").append(time.toEpochMilli()).append("\n\n")
            .append(message);
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    String sha() {
        return Hashing.sha1(bytes());
    }

    CommitInfo info(String sha) {
        return new CommitInfo(sha, parent, author, time, message);
    }

    static CommitObject parse(String sha, byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        int body = text.indexOf("\n\n");
        if (body < 0) throw new HubException.Failure("commit " + sha + " is corrupt: no blank line before its message", null);
        String tree = null, parent = null, author = null;
        Instant time = null;
        for (String line : text.substring(0, body).split("\n")) {
            int space = line.indexOf(' ');
            String value = line.substring(space + 1);
            switch (line.substring(0, Math.max(space, 0))) {
                case "tree" -> tree = value;
                case "parent" -> parent = value;
                case "author" -> author = value;
                case "time" -> time = Instant.ofEpochMilli(Long.parseLong(value));
                default -> throw new HubException.Failure("commit " + sha + " is corrupt: unknown line '" + line + "'", null);
            }
        }
        if (tree == null || author == null || time == null) {
            throw new HubException.Failure("commit " + sha + " is corrupt: it lacks tree, author or time", null);
        }
        return new CommitObject(tree, parent, author, time, text.substring(body + 2));
    }
}
