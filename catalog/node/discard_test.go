package node

import "log/slog"

func langtestDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }
