def main(args):
    return 'notify'
