def main(args):
    return 'camera'
