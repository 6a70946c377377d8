class SummaryWriter: pass
